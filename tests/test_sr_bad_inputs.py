"""SR commands on damaged files: one named line, exit 2, and a way out (retrain or --restart)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT
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
