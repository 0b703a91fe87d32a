"""The ``pecore`` sub-commands of the reconstruction chapter (registered with :func:`pecore.cli.register_command`)."""
from __future__ import annotations

__all__: list[str] = []
