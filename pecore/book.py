"""Execute the chapter notebooks with papermill and build the static book with Jupyter Book 1.

``pecore book`` (what ``make book`` runs) executes every ``notebooks/NN_*.ipynb`` into
``book/chapters/`` (with ``--preset``, ``--device`` and ``--param KEY=VALUE`` injected as parameters), hides the parameter
cells on the page, records each chapter's run time, then runs ``jupyter-book build`` (which
renders the stored outputs and executes nothing) with warnings as errors. A chapter that raises
stops the build with the notebook and the cell named.

At their own defaults the chapters read only the repository (the stored results, and photographs that ship with
scikit-image), so the book builds without the datasets; reruns with other parameters read them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .notebook import REPO_ROOT
from .cache import atomic_write_text
from .errors import ParameterError, PecoreError, UnknownNameError

__all__ = ["add_parser", "copy_book_sources", "parse_parameters", "NOTEBOOKS", "CHAPTERS_OUT", "ChapterError", "chapter_names", "execution_order", "READS_FINDINGS", "execute_chapter", "execute_chapters",
           "build_html"]

NOTEBOOKS = REPO_ROOT / "notebooks"
CHAPTERS_OUT = REPO_ROOT / "book" / "chapters"
HIDDEN_TAGS = {"parameters", "injected-parameters"}


class ChapterError(PecoreError):
    """A chapter notebook raised while executing."""


def chapter_names() -> list[str]:
    """The chapter notebooks, in order (``notebooks/NN_name.ipynb``).

    Examples
    --------
    >>> chapter_names()[0]
    '01_frequency'
    """
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _check_chapter_names(names: Sequence[str]) -> None:
    """Refuse a name that is not a chapter (:func:`chapter_names`), listing the chapters."""
    known = chapter_names()
    for name in names:
        if name not in known:
            raise UnknownNameError(f"unknown chapter {name!r}; allowed: {', '.join(known)}")


def _hide_parameter_cells(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if tags & HIDDEN_TAGS:
            cell.metadata["tags"] = sorted(tags | {"remove-cell"})
    atomic_write_text(path, nbformat.writes(nb))


def execute_chapter(name: str, parameters: dict[str, Any], out_dir: Path = CHAPTERS_OUT) -> float:
    """Execute one chapter with papermill into ``out_dir``; return its run time in seconds.

    Raises
    ------
    ChapterError
        Naming the notebook, the cell and the error, when the notebook raises.
    """
    import papermill as pm

    _check_chapter_names([name])
    out_dir.mkdir(parents=True, exist_ok=True)
    src, dst = NOTEBOOKS / f"{name}.ipynb", out_dir / f"{name}.ipynb"
    tmp = out_dir / f".{name}.running.ipynb"
    accepted = _parameter_names(src)
    params = {k: v for k, v in parameters.items() if k in accepted}
    start = time.perf_counter()
    try:
        pm.execute_notebook(str(src), str(tmp), parameters=params, kernel_name="python3", cwd=str(out_dir),
                            progress_bar=False, request_save_on_cell_execute=False)
    except pm.PapermillExecutionError as exc:
        tmp.unlink(missing_ok=True)
        raise ChapterError(f"chapter {name} ({src}) failed in cell {exc.exec_count} "
                           f"(index {exc.cell_index}): {exc.ename}: {exc.evalue}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        elapsed = time.perf_counter() - start
    _hide_parameter_cells(tmp)
    os.replace(tmp, dst)
    return elapsed


def _parameter_names(path: Path) -> set[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    names: set[str] = set()
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for line in cell.source.splitlines():
                head = line.split("#", 1)[0]
                if "=" in head and not head.startswith((" ", "\t")):
                    names.add(head.split("=", 1)[0].strip())
    return names


#: chapters that read the findings the others record: executed after every other chapter asked for
READS_FINDINGS = ("07_claims",)


def execution_order(chapters: Sequence[str]) -> list[str]:
    """``chapters`` in the order they are executed: as numbered, except that a page reading the others'
    findings (:data:`READS_FINDINGS`) comes last.

    Examples
    --------
    >>> execution_order(["06_sr", "07_claims", "09_origins"])
    ['06_sr', '09_origins', '07_claims']
    """
    return [c for c in chapters if c not in READS_FINDINGS] + [c for c in chapters if c in READS_FINDINGS]


def execute_chapters(chapters: Sequence[str] | None, parameters: dict[str, Any], out_dir: Path = CHAPTERS_OUT,
                     log: bool = True) -> dict[str, float]:
    """Execute ``chapters`` (default: all) in :func:`execution_order`; returns and stores their run times."""
    chapters = list(chapters or chapter_names())
    _check_chapter_names(chapters)
    chapters = execution_order(chapters)
    timings: dict[str, float] = {}
    for name in chapters:
        if log:
            print(f"[pecore book] executing {name} (preset {parameters.get('preset', 'the chapter default')}) …",
                  flush=True)
        timings[name] = execute_chapter(name, parameters, out_dir)
        if log:
            print(f"[pecore book]   {name}: {timings[name]:.1f} s", flush=True)
    record_path = out_dir / "timings.json"
    old = json.loads(record_path.read_text()) if record_path.is_file() else {}
    old.update({k: {"seconds": round(v, 1), **{p: parameters.get(p) for p in ("preset", "device")}}
                for k, v in timings.items()})
    atomic_write_text(record_path, json.dumps(old, indent=2) + "\n")
    _write_timings_page(old, out_dir / "timings.md")
    return timings


def _write_timings_page(record: dict[str, dict[str, Any]], path: Path) -> None:
    from .provenance import cpu_model

    lines = [f"Measured by this build of the book on {cpu_model()}; wall-clock seconds of each chapter's papermill "
             "run. Preset 'default' means the chapter's own default (the stored results where the chapter has them).",
             "", "| chapter (as `--chapters` names it) | preset | device | seconds |", "| --- | --- | --- | --- |"]
    total = 0.0
    for name in sorted(record):
        r = record[name]
        total += float(r["seconds"])
        preset = r.get("preset") or "default"
        lines.append(f"| {name} | {preset} | {r.get('device') or 'auto'} | {float(r['seconds']):.1f} |")
    lines.append(f"| **all** | | | **{total:.1f}** |")
    atomic_write_text(path, "\n".join(lines) + "\n")


def build_html(root: Path = REPO_ROOT, warnings_as_errors: bool = True) -> Path:
    """Run ``jupyter-book build`` on the book in ``root`` (outputs are rendered, nothing is executed), then check
    every internal link of the built pages (:func:`pecore.linkcheck.broken_links`): a broken one fails the build.

    ``root`` holds ``_config.yml`` and ``book/`` with the executed chapters in ``book/chapters/`` (a copy
    made by :func:`copy_book_sources` lets tests build outside the repository).
    """
    missing = [n for n in chapter_names() if not (root / "book" / "chapters" / f"{n}.ipynb").is_file()]
    if missing:
        raise ChapterError(f"chapters not executed yet: {', '.join(missing)}; run `pecore book` without --chapters")
    _write_explorer(root)
    _write_playground(root)
    _write_summary(root)
    from .packs import write_exercise_packs

    write_exercise_packs(REPO_ROOT / "notebooks" / "08_exercises.ipynb", root / "book" / "downloads")
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(root), "--toc", str(root / "book" / "_toc.yml"),
           "--config", str(root / "_config.yml"), "--keep-going"]
    if warnings_as_errors:
        cmd += ["-W"]
    html = root / "_build" / "html"
    if html.exists():
        shutil.rmtree(root / "_build" / ".doctrees", ignore_errors=True)
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PecoreError(f"jupyter-book build failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    from .linkcheck import broken_links

    broken = broken_links(html)
    if broken:
        listing = "; ".join(f"{b.page} → {b.target} ({b.reason})" for b in broken[:10])
        raise PecoreError(f"the built book has {len(broken)} broken internal link{'s' if len(broken) > 1 else ''}: "
                          f"{listing}{' …' if len(broken) > 10 else ''}")
    return html / "index.html"


def _write_summary(root: Path) -> None:
    """Write the results summary the intro includes (``book/chapters/summary.md``) from the chapters' findings,
    and, in the repository itself, the README's copy of it."""
    from .summary import README_START, update_readme, write_summary

    chapters = root / "book" / "chapters"
    write_summary(chapters / "findings", chapters / "summary.md")
    readme = root / "README.md"
    if readme.is_file() and README_START in readme.read_text() and root.resolve() == REPO_ROOT.resolve():
        if update_readme(readme, chapters / "findings"):
            print("[pecore book] README.md: results summary updated from the findings")


def _write_playground(root: Path) -> None:
    """Write the scoring playground the page ``book/playground.md`` includes, when the table of contents lists it."""
    toc = root / "book" / "_toc.yml"
    if (root / "book" / "playground.md").is_file() and toc.is_file() and "book/playground" in toc.read_text():
        from .playground import write_playground

        write_playground(root / "book" / "chapters")


def _write_explorer(root: Path) -> None:
    """Write the channel explorer the page ``book/explorer.md`` includes, when the table of contents lists it."""
    toc = root / "book" / "_toc.yml"
    if (root / "book" / "explorer.md").is_file() and toc.is_file() and "book/explorer" in toc.read_text():
        from .explorer import write_explorer

        write_explorer(root / "book" / "chapters")


def copy_book_sources(dest: Path, root: Path = REPO_ROOT) -> Path:
    """Copy the book's sources (``_config.yml`` and ``book/`` without executed chapters) into ``dest``.

    Examples
    --------
    >>> import tempfile
    >>> d = copy_book_sources(Path(tempfile.mkdtemp()))
    >>> (d / "_config.yml").is_file(), (d / "book" / "_toc.yml").is_file(), (d / "book" / "chapters").exists()
    (True, True, False)
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "_config.yml", dest / "_config.yml")
    shutil.copytree(root / "book", dest / "book", ignore=shutil.ignore_patterns("chapters"), dirs_exist_ok=True)
    return dest


def parse_parameters(items: Sequence[str], chapters: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as chapter parameters, checked before any chapter runs.

    A value is read as a Python literal (``3``, ``0.5``, ``True``, ``["relu2_2"]``) or else as a string.
    Each key must be a parameter of at least one of ``chapters``; the values of the parameters every
    chapter shares (network, csf, ppd, ...) are checked by :func:`pecore.notebook.check_parameters`.

    Raises
    ------
    ParameterError
        A malformed item or a parameter no chosen chapter has.

    Examples
    --------
    >>> parse_parameters(["csf=barten", "p=10"], ["03_pe"])
    {'csf': 'barten', 'p': 10}
    """
    import ast

    from .notebook import check_parameters

    known: set[str] = set()
    for name in chapters:
        known |= _parameter_names(NOTEBOOKS / f"{name}.ipynb")
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--param {item!r}: write KEY=VALUE, e.g. --param csf=barten")
        if key not in known:
            raise ParameterError(f"--param {key}: no chapter among {', '.join(chapters)} has this parameter; "
                                 f"they have: {', '.join(sorted(known))}")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text
    check_parameters({k: v for k, v in out.items() if k != "preset"})
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``pecore book`` to the sub-parsers."""
    p = sub.add_parser("book", help="execute the chapter notebooks with papermill and build the static HTML book",
                       description="Execute every chapter (or --chapters) into book/chapters/, then build the whole "
                       "static book into _build/html with Jupyter Book (offline, warnings as errors), so citations "
                       "and cross-links work on a rerun of a single chapter too.")
    p.add_argument("--preset", default=None,
                   help="give every chapter this preset (default: each chapter's own: the stored results)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--chapters", nargs="+", default=None, help="chapters to execute (default: all)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a chapter parameter, repeatable (e.g. --param csf=barten --param network=alexnet)")
    p.add_argument("--no-build", action="store_true", help="execute the chapters only")
    p.add_argument("--no-execute", action="store_true", help="build from the chapters executed before")
    p.set_defaults(run=_run_book)


def _run_book(args: argparse.Namespace) -> int:
    from .device import resolve_device

    if args.no_build and args.no_execute:
        raise ParameterError("--no-build and --no-execute together leave nothing to do: give at most one of them")
    chapters = list(args.chapters or chapter_names())
    _check_chapter_names(chapters)
    parameters = parse_parameters(args.param, chapters)
    resolve_device(args.device)  # a device that is not here is refused before any chapter runs
    parameters["device"] = args.device
    if args.preset is not None:
        parameters["preset"] = args.preset
    if not args.no_execute:
        timings = execute_chapters(chapters, parameters)
        print(f"[pecore book] chapters executed in {sum(timings.values()):.0f} s")
    if args.no_build:
        return 0
    index = build_html()
    print(f"[pecore book] built {index}")
    return 0
