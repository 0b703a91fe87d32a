"""Output folders: check early that a folder can be written, create it when results are saved, and write a
result's files so that a failure leaves the previous result and concurrent writers cannot mix."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import OutputError

__all__ = ["check_writable", "check_output_dir", "writer_lock", "write_result_files"]


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
    if isinstance(path, str) and not path.strip():
        raise OutputError(f"the {kind} is an empty name: give a folder (. for the current one)")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{kind} {out} is a file, not a folder")
    for p in (out, *out.parents):
        if p.is_symlink() and not p.exists():
            import errno

            try:
                os.stat(p)
                loop = False
            except OSError as exc:
                loop = exc.errno == errno.ELOOP
            why = "in a loop (a link points back to itself)" if loop else "to a missing target"
            raise OutputError(f"{kind} {out} cannot be written: {p} is a symbolic link {why}; remove the link or "
                              "write elsewhere")
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
    out = check_writable(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".pecore-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"output folder {out} cannot be written: {exc.strerror or exc}") from exc
    return out


@contextlib.contextmanager
def writer_lock(out: str | os.PathLike) -> Iterator[None]:
    """Hold the write lock of result folder ``out`` (an advisory ``flock`` on ``.pecore-write.lock`` inside it).

    A second pecore command writing into the same folder at the same time is refused by name instead of
    mixing its files with the first's; the lock is released when the block ends or the process dies.

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> with writer_lock(d):
    ...     with writer_lock(d):
    ...         pass
    Traceback (most recent call last):
    ...
    pecore.errors.OutputError: another pecore command is writing into ... now; wait for it to finish (or write elsewhere)
    """
    folder = check_output_dir(out)
    path = folder / ".pecore-write.lock"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no advisory locks on this platform
        yield
        return
    fh = open(path, "a")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            # the lock file is removed on release: a lock taken on a file that was removed meanwhile is no lock
            if not path.is_file() or os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino:
                raise BlockingIOError
        except BlockingIOError:
            raise OutputError(f"another pecore command is writing into {folder} now; wait for it to finish (or write "
                              "elsewhere)") from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def write_result_files(out: str | os.PathLike, files: Mapping[str, bytes | Callable[[], bytes]]) -> Path:
    """Write every file of one result into folder ``out``: all of them, or — on any failure — none, with every
    file that was there before restored.

    Each file is written to a temporary sibling and renamed into place, under :func:`writer_lock`; a file it
    replaces is kept as a hard link until all are written, and put back if a later one fails (a full disk,
    an interrupt, an error while making a later file), so an existing result survives any failure. A value may
    be a function that makes the file's bytes when its turn comes, so a batch of large files is never all in
    memory at once. Names may contain sub-folders (created as needed, and removed again on failure when they
    were created for it).

    Examples
    --------
    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> _ = write_result_files(d, {"a.txt": b"1", "b.txt": b"2"})
    >>> sorted(p.name for p in d.iterdir()), (d / "a.txt").read_bytes()
    (['a.txt', 'b.txt'], b'1')
    """
    folder = Path(out)
    _check_names(folder, files)
    made = _missing_folders(folder, files)
    try:
        _write_all(folder, files)
    except BaseException:
        for p in made:  # folders made for this result go again with it, deepest first
            with contextlib.suppress(OSError):
                p.rmdir()
        raise
    return folder


def _missing_folders(folder: Path, names: Mapping[str, Any]) -> list[Path]:
    """The folders that writing ``names`` into ``folder`` will create (``folder``, its ancestors, sub-folders of the
    names), deepest first."""
    wanted = {folder, *folder.parents}
    for name in names:
        wanted.update(p for p in (folder / name).parents if folder in p.parents)
    return sorted((p for p in wanted if not p.exists()), key=lambda p: len(p.parts), reverse=True)


def _check_names(folder: Path, files: Mapping[str, Any]) -> None:
    """Refuse file names that leave the folder, collide (also on a case-insensitive disk) or clash with backups."""
    seen: dict[str, str] = {}
    for name in files:
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or ".." in parts or name.endswith(".previous"):
            raise OutputError(f"cannot write {name!r} into {folder}: a result's files are named inside its folder")
        key = "/".join(p for p in parts if p != ".").lower()
        if key in seen:
            raise OutputError(f"{seen[key]!r} and {name!r} name the same file of {folder} (or would, on a "
                              "case-insensitive disk): rename one")
        seen[key] = name


def _write_all(folder: Path, files: Mapping[str, bytes | Callable[[], bytes]]) -> None:
    from .cache import atomic_write_bytes

    with writer_lock(folder):
        backups: dict[Path, Path | None] = {}
        try:
            for name, data in files.items():
                if callable(data):
                    data = data()
                target = folder / name
                keep = None
                if target.is_file():
                    keep = target.with_name(f".{target.name}.previous")
                    keep.unlink(missing_ok=True)
                    os.link(target, keep)
                backups[target] = keep
                atomic_write_bytes(target, data)
        except BaseException:
            for target, keep in backups.items():  # each restored on its own: one failure does not stop the others
                with contextlib.suppress(OSError):
                    if keep is None:
                        target.unlink(missing_ok=True)
                    elif target.is_file() and os.path.samefile(keep, target):  # not replaced yet
                        keep.unlink()
                    else:
                        os.replace(keep, target)
            raise
        for keep in backups.values():
            if keep is not None:
                keep.unlink(missing_ok=True)
