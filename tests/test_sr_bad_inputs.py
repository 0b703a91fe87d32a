"""SR commands on damaged files: one named line, exit 2, and a way out (retrain or --restart)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from pathlib import Path

from conftest import ROOT, full_disk_at
from pecore.cli import main


def _trained(tmp_path):
    assert main(["sr", "train", "--arm", "pixel", "--preset", "ci", "--out", str(tmp_path / "run"), "--data", "Set5",
                 "--quiet"]) == 0
    return tmp_path / "run"


def test_truncated_model_is_a_named_error_in_eval(tmp_path, capsys):
    run = _trained(tmp_path)
    data = (run / "model.pt").read_bytes()
    (run / "model.pt").write_bytes(data[:100])
    capsys.readouterr()
    assert main(["sr", "eval", str(run), "--no-lpips"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "model.pt is unreadable" in err and "--restart" in err


def test_truncated_checkpoint_is_a_named_error_on_resume(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a whole checkpoint")
    assert main(["sr", "train", "--arm", "pixel", "--preset", "ci", "--out", str(run), "--data", "Set5",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checkpoint.pt does not match the checksum" in err and "--restart" in err
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt"]  # no train.json written before the failure


def test_negative_selection_seed_is_named_and_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["sr", "train", "--arm", "random", "--preset", "ci", "--selection-seed", "-1", "--out", str(out),
                 "--data", "Set5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--selection-seed" in err
    assert not out.exists()


def test_another_networks_pe_table_is_named_as_the_wrong_network(tmp_path, capsys):
    from pecore.notebook import stored_probe_dir

    out = tmp_path / "never"
    assert main(["sr", "train", "--arm", "top", "--preset", "ci", "--net", "vgg16", "--probe-result",
                 str(stored_probe_dir("alexnet")), "--out", str(out), "--data", "Set5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "alexnet" in err and "not of vgg16" in err
    assert not out.exists()


def test_subset_weights_refuse_a_table_of_another_network(vgg16):
    import pandas as pd
    import pytest

    from pecore.errors import ParameterError
    from pecore.metric import subset_weights

    table = pd.DataFrame({"network": "alexnet", "layer": "relu1_2", "channel": range(64), "pe": range(64), "dead": False})
    with pytest.raises(ParameterError, match="PE table is of alexnet, but the network is vgg16"):
        subset_weights(vgg16, table, layers=["relu1_2"])


def test_a_damaged_checkpoint_or_train_json_is_a_named_error(tmp_path):
    """A bit flipped in checkpoint.pt is refused on resume; a damaged or foreign train.json is named by sr apply."""
    import shutil

    from pecore.cache import read_torch_file, write_checked_torch
    from pecore.cli import main
    from pecore.errors import DatasetError

    ckpt = write_checked_torch({"step": 7, "w": torch.ones(4)}, tmp_path / "checkpoint.pt")
    data = bytearray(ckpt.read_bytes())
    data[len(data) // 3] ^= 0x01
    ckpt.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="does not match the checksum"):
        read_torch_file(ckpt, "start afresh with --restart", checked=True)
    stored = next(p for p in (ROOT / "stored" / "sr" / "vgg16-book" / "runs").iterdir() if p.is_dir())
    run = tmp_path / "run"
    shutil.copytree(stored, run)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    for text, message in (('{"key": ', "is damaged (not JSON"), ('{"key": "k"}', "not the train.json of a pecore SR run"),
                          ('{"key": "k", "name": "top", "settings": {"n_blocks": -3}}', "do not describe a network")):
        (run / "train.json").write_text(text)
        with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
            from pecore.sr.runs import load_run

            load_run(run, device="cpu")
        assert main(["sr", "apply", str(run), str(tmp_path / "x.png"), "--out", str(tmp_path / "o")]) == 2


# --- outputs: a batch whole or not at all, never onto an input or onto each other ------------------------------------

STORED_RUN = ROOT / "stored" / "sr" / "vgg16-book" / "runs" / "top-t0"


def _photos(tmp_path, names):
    from conftest import data_path

    src = [data_path("sr", "Set5", "image_SRF_4", f"img_00{i}_SRF_4_LR.png") for i in (1, 2, 3)]
    out = []
    for name, s in zip(names, src):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        out.append(tmp_path / name)
        out[-1].write_bytes(s.read_bytes())
    return out


def test_sr_apply_writes_a_batch_whole_or_not_at_all(tmp_path, monkeypatch, capsys):
    photos = _photos(tmp_path, ["a.png", "b.png", "c.png"])
    out = tmp_path / "up"
    assert main(["sr", "apply", str(STORED_RUN), *map(str, photos[:2]), "--out", str(out), "--device", "cpu"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(before) == ["a_x4_top-t0.png", "b_x4_top-t0.png"]
    full_disk_at(monkeypatch, lambda path: path.name.startswith("c_"))  # the third image of the batch
    (photos[0]).write_bytes((photos[2]).read_bytes())  # a's output would change: it must come back as it was
    capsys.readouterr()
    assert main(["sr", "apply", str(STORED_RUN), *map(str, photos), "--out", str(out), "--device", "cpu"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the earlier outputs, byte for byte
    fresh = tmp_path / "fresh"
    assert main(["sr", "apply", str(STORED_RUN), *map(str, photos), "--out", str(fresh), "--device", "cpu"]) == 2
    assert not fresh.exists()  # a folder made for the batch goes with it


def test_sr_apply_refuses_outputs_onto_each_other_or_an_input(tmp_path, capsys):
    same_name = _photos(tmp_path, ["day1/photo.png", "day2/photo.png"])
    out = tmp_path / "up"
    assert main(["sr", "apply", str(STORED_RUN), *map(str, same_name), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "would both be written to" in err and not out.exists()
    onto_input = _photos(out, ["photo.png", "photo_x4_top-t0.png"])
    assert main(["sr", "apply", str(STORED_RUN), *map(str, onto_input), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "would replace an input image" in err
    assert sorted(p.name for p in out.iterdir()) == ["photo.png", "photo_x4_top-t0.png"]
    assert main(["sr", "apply", str(STORED_RUN), str(same_name[0]), "--out", ""]) == 2
    assert "empty name" in capsys.readouterr().err
    assert main(["sr", "apply", str(STORED_RUN), str(tmp_path / "day1"), "--out", str(tmp_path / "o")]) == 2
    assert "day1 is a folder, not an image file" in capsys.readouterr().err


def test_sr_results_save_keeps_the_previous_results_on_failure(tmp_path, monkeypatch):
    from pecore.errors import OutputError
    from pecore.sr.results import SRResults

    stored = SRResults.load(ROOT / "stored" / "sr" / "vgg16-book")
    out = stored.save(tmp_path / "copy")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert Path("runs/top-t0/model.pt") in before and Path("samples/bicubic.png") in before
    again = SRResults.load(out)
    number = again.summary.select_dtypes("number").columns[0]
    again.summary[number] += 1  # summary.csv is replaced before provenance.json fails: it must come back
    full_disk_at(monkeypatch, lambda path: path.name == "provenance.json")
    with pytest.raises(OutputError, match="No space left"):
        again.save(out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
