"""Imports every module that adds a sub-command to ``pecore`` (see :func:`pecore.cli.register_command`).

Each chapter's module registers its own command; add its import here.
"""
from __future__ import annotations

__all__: list[str] = []
