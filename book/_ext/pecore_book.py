"""Sphinx extension of the pecore book: each script is included once per page; the footer names the build.

The footer of every page says which pecore version and git commit the book was built from, and when.

Jupyter Book 1 registers sphinx-thebe's inline configuration script once per reading pass, so a page could
declare ``const THEBE_JS_URL`` twice and the browser reported a SyntaxError. This drops repeated scripts.
"""
from __future__ import annotations

from typing import Any

__all__ = ["setup"]


def _script_key(script: Any) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""  # inline scripts come as None or "" (same script)
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:  # noqa: ANN001
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    kept = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _footer_names_the_build(app, config) -> None:  # noqa: ANN001
    from datetime import datetime, timezone

    from pecore._version import __version__
    from pecore.provenance import git_commit

    options = dict(config.html_theme_options or {})
    built = f"pecore {__version__}, commit {git_commit() or 'unknown'}, built {datetime.now(timezone.utc):%Y-%m-%d}."
    options["extra_footer"] = f"{options.get('extra_footer', '')} {built}".strip()
    config.html_theme_options = options


def setup(app) -> dict:  # noqa: ANN001
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("config-inited", _footer_names_the_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
