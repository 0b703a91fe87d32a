"""Where the committed results live: ``stored/`` in a checkout, package data in an installed wheel.

The folder is found, in this order, from

1. the environment variable ``PECORE_STORED`` (a folder laid out like ``stored/``);
2. the package data ``pecore._stored`` (a regular, non-editable install ships ``stored/`` as it);
3. ``stored/`` beside the ``pecore`` package (a checkout).

Examples
--------
>>> stored_results("probe", "vgg16", "paper").parts[-2:]
('probe', 'vgg16-paper')
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .errors import DatasetError

__all__ = ["STORED_ENV", "stored_root", "stored_results"]

STORED_ENV = "PECORE_STORED"


def stored_root() -> Path:
    """The folder of the committed results (see the module notes for the order of the places tried).

    Raises
    ------
    DatasetError
        ``PECORE_STORED`` names something that is not a folder.
    """
    env = os.environ.get(STORED_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DatasetError(f"{STORED_ENV}={env} is not a folder: point it at a copy of pecore's stored/ folder "
                               "or unset it")
        return path
    spec = importlib.util.find_spec("pecore._stored")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "README.md").is_file():
                return Path(location)
    return Path(__file__).resolve().parent.parent / "stored"


def stored_results(kind: str, network: str, preset: str) -> Path:
    """The folder of one committed result: ``<stored>/<kind>/<network>-<preset>`` (it may not exist).

    ``kind`` is ``'probe'``, ``'iqa'``, ``'reconstruction'`` or ``'sr'``.
    """
    return stored_root() / kind / f"{network}-{preset}"
