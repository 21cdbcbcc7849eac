"""The two packages' import graph: tools imports utils, never the other way; no cycles; the temporary
re-exports that keep the notebooks' old import paths and commands working."""

from __future__ import annotations

import ast
import subprocess
import sys
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


def test_old_import_paths_still_work():
    """Re-exports for notebooks written before utils.data became a package (to go once they are updated)."""
    import utils.data.download
    import utils.data.loaders
    from utils.data import cache_root
    from utils.datasets import FASHION_MNIST_CLASSES, imdb_dir, load_churn
    from utils.download import DatasetNotAvailableError, download

    assert load_churn is utils.data.loaders.load_churn and imdb_dir is utils.data.loaders.imdb_dir
    assert FASHION_MNIST_CLASSES is utils.data.loaders.FASHION_MNIST_CLASSES
    assert download is utils.data.download.download
    assert DatasetNotAvailableError is utils.data.download.DatasetNotAvailableError
    assert callable(cache_root)


def test_old_commands_still_run_the_tools(repo_root):
    """`python -m utils.runner` and the others run the tools until every command names them (started together)."""
    procs = {name: subprocess.Popen([sys.executable, "-m", f"utils.{name}", "--help"], cwd=repo_root, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name in ("runner", "nbcheck", "course")}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and f"python -m tools.{name}" in out, err
