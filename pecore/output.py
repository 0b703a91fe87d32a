"""Output folders: check early that a folder can be written, create it when results are saved."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import OutputError

__all__ = ["check_writable", "check_output_dir"]


def check_writable(path: str | os.PathLike, *, kind: str = "output folder") -> Path:
    """Check, without creating anything, that ``path`` is (or can become) a writable folder.

    Commands call this before their work, so a bad ``--out`` fails early and an error leaves no output;
    the folder itself is created when the results are saved (:func:`check_output_dir`).

    Examples
    --------
    >>> import tempfile; (Path(tempfile.mkdtemp()) / "new" / "out").exists()
    False
    >>> check_writable(Path(tempfile.mkdtemp()) / "new" / "out").name
    'out'
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{kind} {out} is a file, not a folder")
    parent = out
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{kind} {out} cannot be written: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{kind} {out} cannot be written: no write permission in {parent}")
    return out


def check_output_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` if needed and make sure it can be written; else :class:`OutputError`.

    Examples
    --------
    >>> import tempfile; check_output_dir(tempfile.mkdtemp()).is_dir()
    True
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".pecore-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"output folder {out} cannot be written: {exc.strerror or exc}") from exc
    return out
