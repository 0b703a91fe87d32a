"""Sphinx extension of the pecore book: each script is included once per page; the footer names the build.

The footer of every page says which pecore version and git commit the book was built from, and when. The
thresholds the prose pages quote come from pecore's constants as MyST substitutions.

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


def _substitutions_from_pecore(app, config) -> None:  # noqa: ANN001
    """Numbers the prose pages quote from pecore's constants (``{{ min_images }}`` in MyST), so a page and the
    code that applies them cannot disagree."""
    from pecore.claims import SPREAD_THRESHOLD
    from pecore.experiment import MIN_IMAGES
    from pecore.iqa.settings import get_settings as iqa_settings
    from pecore.origins.conclusions import MIN_CHANNELS
    from pecore.reconstruction.conclusions import MIN_CONVERGED

    subs = dict(getattr(config, "myst_substitutions", None) or {})
    subs.update({"min_images": str(MIN_IMAGES), "spread_threshold": f"{SPREAD_THRESHOLD:g}",
                 "min_channels": str(MIN_CHANNELS), "min_converged": f"{MIN_CONVERGED:.0%}".replace("%", " %"),
                 "iqa_n_random": str(iqa_settings("book").n_random)})
    config.myst_substitutions = subs


def setup(app) -> dict:  # noqa: ANN001
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("config-inited", _footer_names_the_build)
    app.connect("config-inited", _substitutions_from_pecore)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
