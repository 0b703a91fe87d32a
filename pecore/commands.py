"""Imports every module that adds a sub-command to ``pecore`` (see :func:`pecore.cli.register_command`).

Each chapter's package registers its own commands in its ``cli`` module; add its import here.
"""
from __future__ import annotations

from . import bookbuild as _bookbuild  # noqa: F401
from .iqa import cli as _iqa_cli  # noqa: F401
from .reconstruction import cli as _reconstruction_cli  # noqa: F401
from .sr import cli as _sr_cli  # noqa: F401

__all__: list[str] = []
