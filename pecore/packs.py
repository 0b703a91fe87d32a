"""Notebooks to hand out: the exercises for students (no solutions, no outputs) and with their solutions.

A solution is a code cell tagged ``solution`` and a Markdown cell that opens with an ``Answer`` admonition. The book
build writes both packs beside the pages (``book/downloads/``) and the exercises page links them.

Examples
--------
>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Exercise 1"),
...     nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]}),
...     nbformat.v4.new_markdown_cell("```{admonition} Answer\\n:class: dropdown\\n\\nOne.\\n```")])
>>> [c.source for c in student_notebook(nb).cells]
['## Exercise 1']
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat

from .cache import atomic_write_text

__all__ = ["is_solution", "student_notebook", "solutions_notebook", "write_exercise_packs", "PACKS"]

#: the file names of the two packs, by kind
PACKS = {"student": "08_exercises_student.ipynb", "solutions": "08_exercises_solutions.ipynb"}


def is_solution(cell: nbformat.NotebookNode) -> bool:
    """Whether ``cell`` is part of a solution: a code cell tagged ``solution`` or an ``Answer`` admonition."""
    if "solution" in cell.get("metadata", {}).get("tags", []):
        return True
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith("```{admonition} Answer")


def _without_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.get("metadata", {}).pop("execution", None)
    out.metadata.pop("papermill", None)
    return out


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` without its solution cells and without outputs."""
    out = _without_outputs(nb)
    out.cells = [c for c in out.cells if not is_solution(c)]
    return out


def solutions_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with its solutions, without outputs (a lecturer runs it, e.g. with ``make lab``)."""
    return _without_outputs(nb)


def write_exercise_packs(source: str | os.PathLike, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write the student and solutions notebooks of the exercises notebook ``source`` into ``out_dir``."""
    nb = nbformat.read(str(source), as_version=4)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for kind, make in (("student", student_notebook), ("solutions", solutions_notebook)):
        made[kind] = atomic_write_text(folder / PACKS[kind], nbformat.writes(make(nb)) + "\n")
    return made
