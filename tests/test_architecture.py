"""The house rules of `docs/architecture.md`, checked: every module the page names exists, no
import (lazy or for typing) closes a circle, no module passes 600 lines, every package says what
its stage takes, gives and must never import, and that it does not."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "leukorules"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every leukorules module `name` imports: at the top, inside functions, for typing. (The
    packages Python imports on the way to a module are not counted: every module needs them.)"""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            # `from a.b import c`: the module a.b.c when there is one, else (a name) a.b
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("leukorules"):
                yield target


def test_every_module_the_architecture_page_names_exists() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"`(leukorules/[\w/]+(?:\.py)?)`", text))
    assert len(named) > 20
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert missing == []


def test_no_import_closes_a_circle() -> None:
    edges = {name: set(_imports(name, path)) for name, path in MODULES.items()}
    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_passes_600_lines(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it where it holds two ideas"


PACKAGES = sorted(n for n, p in MODULES.items() if p.name == "__init__.py" and n != "leukorules")


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_says_what_it_takes_gives_and_must_never_import(name: str) -> None:
    docstring = ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8"))) or ""
    for part in ("Takes:", "Gives:", "Must never import:"):
        assert part in docstring, f"{name}: the package docstring lacks {part!r}"


@pytest.mark.parametrize("name", PACKAGES)
def test_no_package_imports_what_it_says_it_must_not(name: str) -> None:
    docstring = ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8"))) or ""
    rule = docstring.partition("Must never import:")[2].split("\n\n")[0]
    forbidden = set(re.findall(r"`(leukorules(?:\.\w+)*|\w+)`", rule))
    forbidden = {f if f.startswith("leukorules") else f"leukorules.{f}" for f in forbidden}
    assert forbidden, f"{name}: name what it must never import, in backquotes"
    for module, path in MODULES.items():
        if module != name and not module.startswith(name + "."):
            continue
        for target in _imports(module, path):
            hit = [f for f in forbidden if target == f or target.startswith(f + ".")]
            assert not hit, f"{module} imports {target}, which {name} must never import"
