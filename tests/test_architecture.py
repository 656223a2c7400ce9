"""The layout stays true: imports go ``physics`` ← ``surrogates`` ← ``active_learning``, and no
module or sub-package imports itself back in a loop.

Every import counts — at module level and inside functions (a lazy import still couples two
modules) — except those under ``if TYPE_CHECKING:``. The graph is read from the source with
``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("physics", "surrogates", "active_learning")
#: which top-level package may import which (the design's one direction)
ALLOWED = {"physics": set(), "surrogates": {"physics"},
           "active_learning": {"physics", "surrogates"}}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)  # the ``else`` branch does run
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> set[str]:
    """The project modules ``module`` imports (a package counts as its ``__init__``)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            src = _resolve(module, path.name == "__init__.py", node)
            targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in MODULES else src
                       for a in node.names]
        for target in targets:
            while target and target not in MODULES:  # ``import a.b.c`` -> the deepest known
                target = target.rpartition(".")[0]
            if target and target != module:
                out.add(target)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported once, from its entry)."""
    found, state, path = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def _subpackage(module: str) -> str:
    """``active_learning._ledger._keys`` -> ``active_learning._ledger``; a top-level module
    (``active_learning.cli``) is its own unit."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_go_one_way_between_the_packages(package):
    bad = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if m.split(".")[0] == package
                 for t in targets
                 if t.split(".")[0] != package and t.split(".")[0] not in ALLOWED[package])
    assert not bad, "\n".join(bad)


def test_no_module_imports_itself_back():
    cycles = _cycles({m: {t for t in ts if not MODULES[t].name == "__init__.py"}
                      for m, ts in GRAPH.items()})
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("package", PACKAGES)
def test_sub_packages_are_layered(package):
    """Sub-packages (``_ledger``, ``_coordinator``, …) import each other in one direction."""
    graph: dict[str, set[str]] = {}
    for m, targets in GRAPH.items():
        if m.split(".")[0] != package or (MODULES[m].name == "__init__.py" and m == package):
            continue
        src = _subpackage(m)
        for t in targets:
            dst = _subpackage(t)
            if dst != src and t.split(".")[0] == package and t != package:
                graph.setdefault(src, set()).add(dst)
    cycles = _cycles(graph)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checks_catch_a_cycle_and_a_wrong_way_import():
    """The checks themselves can fail: a made-up graph with a loop is caught."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert "physics._base" in GRAPH and "surrogates._base" in GRAPH
    assert "physics._plugins" in GRAPH["surrogates._base"]  # imports are really read
