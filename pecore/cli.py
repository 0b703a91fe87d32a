"""The ``pecore`` command line: one top-level parser and the sub-commands listed in :data:`COMMANDS`.

Each entry of :data:`COMMANDS` is a module's ``add_parser(subparsers)``, which adds its sub-command(s)
and sets ``run`` on their namespace. To add a command, write such a function and list it here.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import book, data_command, probe_command, reproduce
from ._version import __version__
from .errors import PecoreError
from .iqa import cli as iqa_cli
from .origins import cli as origins_cli
from .reconstruction import cli as reconstruction_cli
from .sr import cli as sr_cli

__all__ = ["COMMANDS", "main", "build_parser"]

#: every sub-command's ``add_parser``, in the order ``pecore --help`` lists them
COMMANDS = (probe_command.add_parser, book.add_parser, iqa_cli.add_parser, reconstruction_cli.add_parser,
            sr_cli.add_parser, origins_cli.add_parser, reproduce.add_parser, data_command.add_parser)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS`.

    Examples
    --------
    >>> sorted(build_parser()._subparsers._group_actions[0].choices)[:3]
    ['book', 'distance', 'iqa']
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
        return int(args.run(args) or 0)
    except PecoreError as exc:
        if debug:
            raise
        print(f"pecore {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pecore {args.command}: interrupted; finished steps are kept (cache entries, checkpoints) and the "
              "same command resumes from them", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
