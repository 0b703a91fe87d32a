"""An on-disk cache of arrays keyed by a hash of every input, written atomically."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OutputError

__all__ = ["cache_dir", "cache_key", "load_arrays", "save_arrays", "atomic_write_text", "atomic_write_bytes"]


def cache_dir() -> Path:
    """The cache folder: ``$PECORE_CACHE``, else ``~/.cache/pecore``.

    Examples
    --------
    >>> isinstance(cache_dir(), Path)
    True
    """
    env = os.environ.get("PECORE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "pecore"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return [round(float(v), 12) for v in obj.ravel()]
    if isinstance(obj, (np.floating, float, np.integer, int)) and not isinstance(obj, bool):
        return round(float(obj), 12)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items())}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def cache_key(kind: str, inputs: dict[str, Any]) -> str:
    """A stable hex key of ``kind`` and every input.

    Examples
    --------
    >>> cache_key("x", {"a": 1}) == cache_key("x", {"a": 1.0 * 1})
    True
    """
    blob = json.dumps({"kind": kind, "inputs": _jsonable(inputs)}, sort_keys=True)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:24]}"


def _path(key: str) -> Path:
    return cache_dir() / f"{key}.npz"


def load_arrays(key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or ``None``. An unreadable entry is removed and missed."""
    path = _path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # a corrupt entry: drop it and recompute
        warnings.warn(f"cache entry {path} is unreadable ({exc}); recomputing", stacklevel=2)
        path.unlink(missing_ok=True)
        return None


def _atomic(path: Path, write: Any, suffix: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as exc:
        raise OutputError(f"cannot write to {path.parent}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_arrays(key: str, arrays: dict[str, np.ndarray]) -> Path:
    """Store ``arrays`` under ``key``: written to a temporary file, then renamed into place."""
    path = _path(key)
    _atomic(path, lambda fh: np.savez(fh, **arrays), ".npz")
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + rename).

    Examples
    --------
    >>> import tempfile; p = atomic_write_bytes(Path(tempfile.mkdtemp()) / "a.bin", b"x"); p.read_bytes()
    b'x'
    """
    path = Path(path)
    _atomic(path, lambda fh: fh.write(data), ".tmp")
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file + rename)."""
    return atomic_write_bytes(path, text.encode())
