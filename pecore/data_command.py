"""The ``pecore data`` command: list the datasets, check a data folder, fetch a dataset (:mod:`pecore.data`)."""
from __future__ import annotations

import argparse
import textwrap

__all__ = ["add_parser"]


def _run_list(args: argparse.Namespace) -> int:
    from .data import DATASETS, registry

    reg = registry()
    for d in DATASETS.values():
        print(f"{d.name}  (folder {d.folder}, {len(reg[d.name])} files)")
        for label, text in (("what", d.what), ("source", d.source), ("terms", d.licence), ("cite", d.citation),
                            ("fetch", f"pecore data fetch {d.name}" if d.archive else
                             f"on request from its authors; then pecore data fetch {d.name} --url FILE_OR_URL")):
            print(textwrap.fill(text, 110, initial_indent=f"  {label:7s}", subsequent_indent=" " * 9))
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from .data import DATASETS, check

    results = [check(name, args.root) for name in (args.names or list(DATASETS))]
    for r in results:
        print(r.line())
    return 0 if all(r.ok for r in results) else 1


def _run_fetch(args: argparse.Namespace) -> int:
    from .data import fetch

    result = fetch(args.name, args.root, url=args.url, sha256=args.sha256, progress=not args.quiet)
    print(result.line())
    return 0 if result.ok else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``pecore data`` and its sub-commands."""
    from .data import DATASETS

    p = sub.add_parser("data", help="list, check and fetch the datasets of the live runs",
                       description="The datasets the live runs read from the data folder ($PECORE_DATA). The book "
                                   "builds without them (stored results).")
    actions = p.add_subparsers(dest="action", required=True, metavar="{list,check,fetch}")
    a = actions.add_parser("list", help="each dataset: what it is, where it comes from, its terms and citation")
    a.set_defaults(run=_run_list)
    a = actions.add_parser("check", help="verify every expected file against its sha256")
    a.add_argument("names", nargs="*", choices=[[], *DATASETS], metavar="NAME", help="datasets (default: all)")
    a.add_argument("--root", default=None, help="data folder (default: $PECORE_DATA or the one beside the checkout)")
    a.set_defaults(run=_run_check)
    a = actions.add_parser("fetch", help="download an archive, unpack the expected files, check them")
    a.add_argument("name", choices=list(DATASETS), help="dataset")
    a.add_argument("--url", default=None, help="archive URL or local .zip (default: the dataset's own archive)")
    a.add_argument("--sha256", default=None, help="sha256 of the archive, checked after the download")
    a.add_argument("--root", default=None, help="data folder (default: $PECORE_DATA)")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(run=_run_fetch)
