"""Internal links of the built book: every relative ``href`` / ``src`` must name a file that exists, and every
``#fragment`` an id (or anchor name) on its target page. Remote links are not followed (the book builds offline).

Examples
--------
>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "a.html").write_text('<a href="b.html#x">ok</a> <a href="b.html#y">bad</a> <img src="c.png">')
>>> _ = (d / "b.html").write_text('<h1 id="x">B</h1>')
>>> [(b.page, b.target, b.reason) for b in broken_links(d)]
[('a.html', 'b.html#y', 'no id y on b.html'), ('a.html', 'c.png', 'no file c.png')]
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["BrokenLink", "broken_links"]


@dataclass(frozen=True)
class BrokenLink:
    """A link of ``page`` (relative to the book's root) to ``target`` that does not resolve, and why."""

    page: str
    target: str
    reason: str


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id",) or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif (name == "href" and tag in ("a", "link", "area")) or (name == "src" and tag in ("img", "script",
                                                                                                  "source", "iframe")):
                self.links.append(value)


def _parse(path: Path, cache: dict[Path, _Links]) -> _Links:
    if path not in cache:
        parser = _Links()
        parser.feed(path.read_text(errors="replace"))
        cache[path] = parser
    return cache[path]


def _internal(link: str) -> bool:
    parts = urlsplit(link)
    return not (parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")))


def broken_links(root: str | os.PathLike) -> list[BrokenLink]:
    """Every internal link of the HTML pages under ``root`` that does not resolve, in page order.

    A link to a folder resolves when the folder holds ``index.html``; a fragment is checked on HTML targets only.
    """
    root = Path(root)
    cache: dict[Path, _Links] = {}
    out = []
    for page in sorted(root.rglob("*.html")):
        rel = page.relative_to(root).as_posix()
        if rel.startswith(("_static/", "_sources/")):  # theme templates and page sources, not pages
            continue
        for link in _parse(page, cache).links:
            if not _internal(link):
                continue
            parts = urlsplit(link)
            path_part, fragment = unquote(parts.path), unquote(parts.fragment)
            target = page if not path_part else (page.parent / path_part).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                out.append(BrokenLink(rel, link, f"no file {path_part}"))
                continue
            if fragment and target.suffix == ".html" and fragment not in _parse(target, cache).ids:
                out.append(BrokenLink(rel, link, f"no id {fragment} on {target.name}"))
    return out
