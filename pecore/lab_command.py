"""The ``pecore lab`` command: JupyterLab on the chapter notebooks, for a class (``make lab`` runs it).

Jupyter refuses to start as root unless told ``--allow-root``; containers and many course machines run as root,
so the command passes it there (and only there). Matplotlib's non-interactive backend, which the other make targets
set, is dropped so that figures render inline.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from .errors import ParameterError

__all__ = ["lab_argv", "add_parser"]


def lab_argv(notebooks: str | os.PathLike, *, port: int | None = None, browser: bool = True,
             token: str | None = None, uid: int | None = None) -> list[str]:
    """The command line that starts JupyterLab on ``notebooks``.

    Parameters
    ----------
    notebooks
        The folder JupyterLab opens (must exist).
    port
        The port to serve on (default: Jupyter's choice, 8888 or the next free one).
    browser
        Open a browser tab (``False`` for a server reached from elsewhere).
    token
        The access token (default: a random one, printed by Jupyter).
    uid
        The user id the server will run as (default: this process's); 0 (root) adds ``--allow-root``.

    Examples
    --------
    >>> lab_argv("notebooks", port=8890, browser=False, uid=0)[-4:]
    ['--port=8890', '--ServerApp.port_retries=0', '--no-browser', '--allow-root']
    >>> "--allow-root" in lab_argv("notebooks", uid=1000)
    False
    """
    folder = Path(notebooks)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ParameterError(f"notebook folder {str(folder)!r} {what}: run from the repository root or pass "
                             "--notebooks FOLDER")
    if token is not None and not token.strip():
        raise ParameterError("--token is empty, which would turn off JupyterLab's login for anyone who can reach the "
                             "port: give a token, or leave --token out for a random one")
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        raise ParameterError(f"port must be an integer between 1 and 65535, got {port!r}")
    argv = [sys.executable, "-m", "jupyterlab", str(folder)]
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    if port is not None:  # exactly this port: a reader told to open it must find the server there
        argv += [f"--port={port}", "--ServerApp.port_retries=0"]
    if not browser:
        argv.append("--no-browser")
    if (os.getuid() if uid is None else uid) == 0:
        argv.append("--allow-root")
    return argv


def _run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("jupyterlab") is None:
        raise ParameterError("JupyterLab is not installed: run `make lab` (or pip install -e '.[lab]')")
    argv = lab_argv(args.notebooks, port=args.port, browser=not args.no_browser, token=args.token)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # inline figures, not the Agg of make
    sys.stdout.flush()
    os.execve(argv[0], argv, env)  # JupyterLab replaces this process: Ctrl-C and its shutdown prompt are its own
    return 0  # pragma: no cover - execve does not return


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``pecore lab``."""
    p = sub.add_parser("lab", help="JupyterLab on the chapter notebooks (needs the lab extra: make lab)",
                       description="Start JupyterLab on the chapter notebooks, for a class. As root (containers) "
                                   "it passes Jupyter's --allow-root.")
    p.add_argument("--notebooks", default="notebooks", help="folder to open (default: notebooks)")
    p.add_argument("--port", type=int, default=None, help="serve on exactly this port (default: Jupyter's choice)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument("--token", default=None, help="access token (default: a random one, printed at start)")
    p.set_defaults(run=_run)
