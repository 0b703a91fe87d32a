"""The package's shape: dependencies point down, no cycles, small modules and functions, no repeated logic,
and the stored results found from an installed wheel without the repository."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pecore"
CHAPTERS = ("iqa", "reconstruction", "sr")
#: modules above the chapters (they may import them)
ABOVE = {"pecore.cli", "pecore.plots", "pecore.book", "pecore.reproduce", "pecore.__main__"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
REASON = "Length:"  # a docstring that explains why a module or function is long starts a paragraph with this


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path
    return out


def _imports(name: str, path: Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pecore")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("pecore"):
                found.add(mod)
                found |= {f"{mod}.{a.name}" for a in node.names}
    known = _modules()
    return {m for m in found if m in known}


def test_no_import_cycle_between_modules():
    graph = {m: _imports(m, p, top_level_only=True) - {m} for m, p in _modules().items()}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if n.startswith(m + "."):
                continue  # a package importing its own sub-modules is not a cycle
            if state.get(n) == 1 and not m.startswith(n + "."):
                raise AssertionError("import cycle: " + " -> ".join([*stack, m, n]))
            if n not in state:
                visit(n, [*stack, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_core_never_imports_a_chapter():
    chapters = tuple(f"pecore.{c}" for c in CHAPTERS)
    bad = []
    for m, p in _modules().items():
        if m in ABOVE or m.startswith(chapters):
            continue
        hits = [i for i in _imports(m, p, top_level_only=False) if i.startswith(chapters)]
        if hits:
            bad.append(f"{m} imports {sorted(hits)}")
    assert not bad, "the core imports chapter packages: " + "; ".join(bad)


def test_import_pecore_loads_no_training_code():
    code = "import sys, pecore, pecore.cli; print(sorted(m for m in sys.modules if m.startswith('pecore.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out)  # a printed list of module names
    assert not [m for m in loaded if m.startswith(("pecore.sr.", "pecore.reconstruction.", "pecore.iqa."))
                and not m.endswith(".cli")], loaded


def test_modules_and_functions_are_small_or_say_why():
    long_modules, long_functions = [], []
    for m, p in _modules().items():
        text = p.read_text()
        tree = ast.parse(text)
        if len(text.splitlines()) > MAX_MODULE_LINES and REASON not in (ast.get_docstring(tree) or ""):
            long_modules.append(f"{m} ({len(text.splitlines())} lines)")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node) or ""
                body = node.body[1:] if doc else node.body
                if not body:
                    continue
                n = node.end_lineno - body[0].lineno + 1  # lines of code, docstring excluded
                if n > MAX_FUNCTION_LINES and REASON not in doc:
                    long_functions.append(f"{m}.{node.name} ({n} lines)")
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines without a '{REASON}' reason: {long_modules}"
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines without a '{REASON}' reason: {long_functions}"


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """Lines of code with docstrings, signatures, comments, imports, blank and punctuation-only lines left out."""
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            skip |= set(range(node.lineno, node.body[0].lineno))  # signatures: parameters, not logic
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = node.body[0] if node.body else None
            if isinstance(doc, ast.Expr) and isinstance(getattr(doc, "value", None), ast.Constant) and \
                    isinstance(doc.value.value, str):
                skip |= set(range(doc.lineno, doc.end_lineno + 1))
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        s = " ".join(line.split())
        if i in skip or not s or s.startswith(("#", "import ", "from ")) or len(s.strip("()[]{},:")) < 4:
            continue
        out.append((i, s))
    return out


def test_no_repeated_logic_of_six_lines():
    seen: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for m, p in _modules().items():
        lines = _code_lines(p)
        for k in range(len(lines) - 5):
            window = tuple(s for _, s in lines[k:k + 6])
            seen[window].append(f"{m}:{lines[k][0]}")
    repeated = {w: where for w, where in seen.items() if len(where) > 1}
    assert not repeated, "repeated six-line runs: " + "; ".join(" = ".join(w) for w in list(repeated.values())[:5])


def test_stored_results_found_from_an_installed_wheel(tmp_path):
    """Build the wheel, unpack it outside the repository and load stored results from it."""
    root = PACKAGE.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(root)], check=True, capture_output=True, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("pecore-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    code = ("import pecore, pecore.stored as s; from pecore.notebook import chapter_probe; "
            "t = chapter_probe('vgg16', 'quick', use_stored=True); "
            "print(pecore.__file__); print(s.stored_root()); print(len(t.table), t.provenance['stored'])")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PECORE_STORED", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    module, stored, loaded = out.stdout.strip().splitlines()
    assert module.startswith(str(site)) and stored.startswith(str(site)), out.stdout
    assert loaded == "1472 True"


def test_pecore_stored_setting_is_used_and_checked(tmp_path, monkeypatch):
    from pecore.errors import DatasetError
    from pecore.stored import stored_results, stored_root

    monkeypatch.setenv("PECORE_STORED", str(tmp_path))
    assert stored_root() == tmp_path
    assert stored_results("sr", "vgg16", "book") == tmp_path / "sr" / "vgg16-book"
    monkeypatch.setenv("PECORE_STORED", str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="PECORE_STORED"):
        stored_root()
