"""The forecasting package imports as a tree: no module reaches itself, at import time or inside a function."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "shared.forecasting"
ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT / "shared" / "forecasting"


def modules() -> list[str]:
    return sorted(f"{PACKAGE}.{p.stem}" for p in DIRECTORY.glob("*.py") if p.stem != "__init__")


def imported(name: str, tree: ast.AST, known: set[str]) -> set[str]:
    """Modules of the package that `name` imports anywhere in its source (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.rsplit(".", node.level)[0]
                prefix = f"{base}.{node.module}" if node.module else base
            else:
                prefix = node.module or ""
            targets = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known)
    return found - {name}


def graph() -> dict[str, set[str]]:
    known = set(modules())
    return {
        name: imported(name, ast.parse((DIRECTORY / f"{name.rsplit('.', 1)[1]}.py").read_text()), known)
        for name in known
    }


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that starts and ends at the same module, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle(planted) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_relative_and_lazy_imports():
    source = "from .base import Forecaster\nfrom . import metrics\ndef f():\n    from .families import build\n"
    known = {f"{PACKAGE}.{m}" for m in ("base", "metrics", "families", "naive")}
    got = imported(f"{PACKAGE}.naive", ast.parse(source), known)
    assert got == {f"{PACKAGE}.base", f"{PACKAGE}.metrics", f"{PACKAGE}.families"}


def test_forecasting_modules_import_without_cycles():
    edges = graph()
    assert edges.get(f"{PACKAGE}.families")  # the graph is not empty
    assert cycle(edges) is None, f"import cycle: {' -> '.join(cycle(edges))}"


@pytest.mark.slow
def test_each_module_imports_on_its_own_in_a_fresh_interpreter():
    """In a new interpreter, each module is imported with none of the package's other modules loaded."""
    code = (
        "import importlib, sys\n"
        f"names = {modules()!r}\n"
        "for name in names:\n"
        f"    for loaded in [m for m in sys.modules if m.startswith('{PACKAGE}.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
