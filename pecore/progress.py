"""Progress bars: ``tqdm`` where it is installed, else a silent stand-in with the same calls.

A bare GPU machine may lack ``tqdm``; the experiments then run the same, without bars.

Examples
--------
>>> sum(progress_bar(range(3), disable=True))
3
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["progress_bar"]

try:
    from tqdm import tqdm as progress_bar
except ImportError:  # pragma: no cover - exercised only where tqdm is missing

    class progress_bar:  # type: ignore[no-redef]  # noqa: N801 - the same name and calls as tqdm
        """A no-op stand-in for :class:`tqdm.tqdm`."""

        def __init__(self, iterable: Iterable | None = None, *args: Any, **kwargs: Any) -> None:
            self.iterable = iterable

        def __iter__(self) -> Iterator:
            return iter(self.iterable or ())

        def __enter__(self) -> "progress_bar":
            return self

        def __exit__(self, *exc: Any) -> None:
            return None

        def update(self, n: int = 1) -> None:
            return None

        def set_postfix(self, *args: Any, **kwargs: Any) -> None:
            return None

        def close(self) -> None:
            return None
