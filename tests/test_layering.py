"""The layering of docs/architecture.md, enforced: imports go downward, nothing private crosses modules.

Read from the source with `ast` (nothing is imported), so a function-level import counts as much as
one at the top of a module: both run in production.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Lowest first; a package may import only from itself and the packages before it.
LAYERS = (
    "assist_center",
    "applications",
    "benefits",
    "eligibility",
    "referrals",
    "charity",
    "happiness_list",
    "dashboards",
    "demo",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported from
    name: str | None  # the name taken from it, for `from target import name`
    line: int

    def __str__(self) -> str:
        taken = f" import {self.name}" if self.name else ""
        return f"{self.module}:{self.line}: from {self.target}{taken}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _production_files() -> Iterator[Path]:
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _imports(path: Path) -> Iterator[Import]:
    module = _module_name(path)
    package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package_parts[: len(package_parts) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                yield Import(module, base, alias.name, node.lineno)


ALL_IMPORTS = [imp for path in _production_files() for imp in _imports(path)]


def _layer(module: str) -> int | None:
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else None


def test_the_scan_sees_the_tree() -> None:
    # Guards the guard: a broken walk would pass every test below on nothing.
    assert len(ALL_IMPORTS) > 1000
    assert any(imp.target == "assist_center.scopes" for imp in ALL_IMPORTS)


def test_no_module_imports_a_package_above_its_own_layer() -> None:
    upward = [
        str(imp)
        for imp in ALL_IMPORTS
        if (mine := _layer(imp.module)) is not None
        and (theirs := _layer(imp.target)) is not None
        and theirs > mine
    ]
    assert upward == []


def test_no_production_module_imports_the_demo() -> None:
    demo = [
        str(imp) for imp in ALL_IMPORTS if not imp.module.startswith("demo") and ".demo" in f".{imp.target}"
    ]
    assert demo == []


def test_no_module_takes_another_modules_private_name() -> None:
    private = [
        str(imp)
        for imp in ALL_IMPORTS
        if imp.name
        and imp.name.startswith("_")
        and not imp.name.startswith("__")
        and imp.target != imp.module
        and _layer(imp.target) is not None
    ]
    assert private == []


def test_the_admin_imports_no_view_module() -> None:
    # Workflow pages are staff views; the admin links to them by URL name, never by import.
    from_admin = [
        str(imp)
        for imp in ALL_IMPORTS
        if ".admin" in f".{imp.module}"
        and _layer(imp.target) is not None
        and (".views" in f".{imp.target}" or imp.name == "views")
    ]
    assert from_admin == []


def _module_graph() -> dict[str, set[str]]:
    known = {_module_name(p) for p in _production_files()}
    graph: dict[str, set[str]] = {m: set() for m in known}
    for imp in ALL_IMPORTS:
        for candidate in (f"{imp.target}.{imp.name}" if imp.name else "", imp.target):
            if candidate in known and candidate != imp.module:
                graph[imp.module].add(candidate)
                break
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_two_modules_import_each_other_even_indirectly() -> None:
    assert _cycles(_module_graph()) == []
