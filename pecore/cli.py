"""The ``pecore`` command line: one top-level parser and the sub-commands listed in :data:`COMMANDS`.

Each entry of :data:`COMMANDS` is a module's ``add_parser(subparsers)``, which adds its sub-command(s)
and sets ``run`` on their namespace. To add a command, write such a function and list it here.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from . import book, data_command, lab_command, probe_command, reproduce
from ._version import __version__
from .errors import PecoreError
from .iqa import cli as iqa_cli
from .origins import cli as origins_cli
from .reconstruction import cli as reconstruction_cli
from .sr import cli as sr_cli

__all__ = ["COMMANDS", "main", "build_parser"]

#: every sub-command's ``add_parser``, in the order ``pecore --help`` lists them
COMMANDS = (probe_command.add_parser, book.add_parser, iqa_cli.add_parser, reconstruction_cli.add_parser,
            sr_cli.add_parser, origins_cli.add_parser, reproduce.add_parser, data_command.add_parser,
            lab_command.add_parser)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS`.

    Examples
    --------
    >>> sorted(build_parser()._subparsers._group_actions[0].choices)[:3]
    ['book', 'data', 'distance']
    """
    parser = _Parser(
        prog="pecore",
        description="pecore: perceptual efficacy of CNN channels (Tariq et al., ECCV 2020), reproduced.",
    )
    parser.add_argument("--version", action="version", version=f"pecore {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="print the Python traceback of an error (also: PECORE_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; bad input prints one line naming the problem and exits with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("PECORE_DEBUG", "") not in ("", "0")
    try:
        status = int(args.run(args) or 0)
        sys.stdout.flush()  # inside the try: a reader that went away is handled below, not at interpreter exit
        return status
    except PecoreError as exc:
        if debug:
            raise
        print(f"pecore {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pecore {args.command}: interrupted; finished steps are kept (cache entries, checkpoints) and the "
              "same command resumes from them", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`pecore data list | head`): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (OSError, RuntimeError) as exc:
        if debug or (isinstance(exc, RuntimeError) and "Symlink loop" not in str(exc)):
            raise
        print(f"pecore {args.command}: error: {_os_error_line(exc)}", file=sys.stderr)
        return 2


def _os_error_line(exc: BaseException) -> str:
    """One line for an error of the operating system: what failed, on which path.

    Examples
    --------
    >>> import errno
    >>> _os_error_line(OSError(errno.ENOSPC, "No space left on device", "out/grid.csv"))
    'No space left on device: out/grid.csv (free space, or write elsewhere with --out)'
    >>> _os_error_line(RuntimeError("Symlink loop from '/tmp/a'"))
    "Symlink loop from '/tmp/a': a link points back to itself; give a real file or folder"
    """
    import errno

    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc}: a link points back to itself; give a real file or folder".replace(f"{where}{where}", where)
    text = f"{exc.strerror or exc}: {exc.filename}" if getattr(exc, "filename", None) else str(exc.strerror or exc)
    hint = {errno.ENOSPC: " (free space, or write elsewhere with --out)", errno.EACCES: " (no permission)",
            errno.EROFS: " (a read-only file system: write elsewhere with --out)"}.get(exc.errno or 0, "")
    return " ".join((text + hint).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
