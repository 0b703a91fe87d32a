"""An on-disk cache of arrays keyed by a hash of every input, written atomically."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OutputError

__all__ = ["cache_dir", "cache_key", "load_arrays", "save_arrays", "atomic_write_text", "atomic_write_bytes", "write_checked_torch",
           "read_torch_file"]


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


#: the array every cache entry carries: the sha256 of its key and arrays, checked when it is read
_CHECK = "__pecore_sha256__"


def _digest(key: str, arrays: dict[str, np.ndarray]) -> str:
    """sha256 of a cache entry: its key, then each array's name, dtype, shape and bytes (in name order)."""
    h = hashlib.sha256(key.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"|{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def load_arrays(key: str, keys: Iterable[str] | None = None) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or ``None``. An unreadable entry is removed and missed; so is one whose
    checksum (written with it: the sha256 of its key and arrays) does not match — a changed or forged entry.

    ``keys`` names the arrays the caller needs: an entry without one of them (written by another
    version, or not by pecore) counts as unreadable too.

    Examples
    --------
    >>> _ = save_arrays("doc-example", {"a": np.zeros(2)})
    >>> sorted(load_arrays("doc-example")), load_arrays("doc-example", keys=["b"]) is None
    (['a'], True)
    """
    path = _path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
        stamp = out.pop(_CHECK, None)
        if stamp is None or stamp.tobytes().hex() != _digest(key, out):
            raise ValueError("its checksum does not match its contents and key (changed, or not written by pecore)")
        missing = sorted(set(keys or ()) - set(out))
        if missing:
            raise KeyError(f"no array {', '.join(missing)}")
        return out
    except Exception as exc:  # a corrupt or foreign entry: drop it and recompute
        warnings.warn(f"cache entry {path} is unreadable ({exc}); recomputing", stacklevel=2)
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        return None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic(path: Path, write: Any, suffix: str) -> None:
    if path.is_dir():
        raise OutputError(f"{path} is a folder; name a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as exc:
        raise OutputError(f"cannot write to {path.parent}: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp creates 0600; outputs get the usual permissions
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def save_arrays(key: str, arrays: dict[str, np.ndarray]) -> Path:
    """Store ``arrays`` under ``key``: written to a temporary file, then renamed into place.

    Raises
    ------
    OutputError
        If the cache folder cannot be written (the message names ``PECORE_CACHE``).
    """
    path = _path(key)
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    if _CHECK in arrays:
        raise ValueError(f"{_CHECK} is the name of the cache's own checksum")
    stamped = {**arrays, _CHECK: np.frombuffer(bytes.fromhex(_digest(key, arrays)), dtype=np.uint8)}
    try:
        _atomic(path, lambda fh: np.savez(fh, **stamped), ".npz")
    except OutputError as exc:
        raise OutputError(f"the cache folder {path.parent} cannot be written ({exc}); set PECORE_CACHE to a "
                          "writable folder") from exc
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


#: the end of a checksummed torch file: this marker, then the sha256 of everything before it
_TORCH_MARK = b"\npecore-sha256:"


def write_checked_torch(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` of ``obj`` to ``path`` atomically, followed by the sha256 of the saved bytes, so
    :func:`read_torch_file` with ``checked=True`` refuses a file that changed (a flipped bit, a truncation).

    Examples
    --------
    >>> import tempfile, torch
    >>> p = write_checked_torch({"step": 3}, Path(tempfile.mkdtemp()) / "checkpoint.pt")
    >>> read_torch_file(p, "restart", checked=True)
    {'step': 3}
    """
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    return atomic_write_bytes(path, data + _TORCH_MARK + hashlib.sha256(data).hexdigest().encode())


def read_torch_file(path: str | os.PathLike, hint: str, *, checked: bool = False) -> Any:
    """``torch.load`` of a pecore-written file (tensors only), with a named error for a truncated or foreign one.

    Raises
    ------
    DatasetError
        The file cannot be read; the message names it and ends with ``hint`` (what to do).

    Examples
    --------
    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "model.pt"; _ = bad.write_bytes(b"PK\\x03\\x04 truncated")
    >>> read_torch_file(bad, "retrain it")
    Traceback (most recent call last):
    ...
    pecore.errors.DatasetError: ... is unreadable (truncated or not a pecore file): retrain it
    """
    import pickle

    import torch

    from .errors import DatasetError

    if checked:
        import io

        data = Path(path).read_bytes()
        body, mark, digest = data.rpartition(_TORCH_MARK)
        if not mark or hashlib.sha256(body).hexdigest().encode() != digest:
            raise DatasetError(f"{path} does not match the checksum written with it (damaged, truncated or not "
                               f"written by this pecore): {hint}")
        source: Any = io.BytesIO(body)
    else:
        source = path
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise DatasetError(f"{path} is unreadable (truncated or not a pecore file): {hint}") from exc
