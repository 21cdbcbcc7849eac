"""The two packages' import graph: tools imports utils, never the other way; no cycles; notebooks import
utils only."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

PACKAGES = ("utils", "tools")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, is_package: bool) -> set[str]:
    """The project modules a module imports (at any depth in its code)."""
    found = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _graph(root: Path) -> dict[str, set[str]]:
    modules = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            modules[_module_name(path, root)] = path
    graph = {}
    for name, path in modules.items():
        targets = _imports(path, name, path.name == "__init__.py")
        graph[name] = {t if t in modules else t.rpartition(".")[0] for t in targets} & set(modules) - {name}
    return graph


def test_utils_never_imports_tools(repo_root):
    graph = _graph(repo_root)
    assert "tools.runner" in graph and "utils.data.cache" in graph
    wrong = {m: sorted(t for t in targets if t.startswith("tools")) for m, targets in graph.items()
             if m.startswith("utils")}
    assert not any(wrong.values()), wrong


def test_no_import_cycles(repo_root):
    graph = _graph(repo_root)
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                # a package's __init__ importing its own submodules is not a cycle of logic
                if not (nxt.count(".") < node.count(".") and node.startswith(nxt + ".")):
                    pytest.fail("import cycle: " + " -> ".join([*path, node, nxt]))
            elif nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_notebooks_import_utils_and_never_tools(repo_root):
    """Notebooks (both editions) import the learners' package only, by its current module paths."""
    import nbformat

    paths = sorted((repo_root / "notebooks").rglob("*.ipynb"))
    assert paths
    for path in paths:
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert not re.search(r"^\s*(from|import)\s+tools\b", code, re.MULTILINE), f"{path.name} imports tools"
        for module, names in re.findall(r"^\s*from\s+(utils[\w.]*)\s+import\s+([\w ,]+)", code, re.MULTILINE):
            spec = importlib.util.find_spec(module)
            assert spec is not None, f"{path.name} imports {module}, which does not exist"
            imported = importlib.import_module(module)
            for name in (n.split(" as ")[0].strip() for n in names.split(",") if n.strip()):
                found = hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None
                assert found, f"{path.name}: `from {module} import {name}`, which {module} does not have"
