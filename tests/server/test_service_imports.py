"""The server's use cases form a layered graph: no module of ``server/services`` imports (even
late, inside a function) a module that imports it back. Shared case access and event recording
live in a leaf module; the workflow's reactions to case transitions are hooks the app registers."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "server" / "services"


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs: an ``if TYPE_CHECKING:`` block (type hints only) is left out."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            stack.extend(node.orelse)
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def service_imports() -> dict[str, set[str]]:
    """Each service module and the service modules it imports when it runs, at the top or in a
    function (imports for type hints alone are not dependencies at run time)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SERVICES.glob("*.py")):
        name = path.stem
        found: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "server.services":
                    found.update(alias.name for alias in node.names)
                elif node.module.startswith("server.services."):
                    found.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("server.services."):
                        found.add(alias.name.split(".")[2])
        graph[name] = found - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_cycle_finder_sees_a_late_import_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_an_import_inside_a_function_counts_and_a_type_checking_one_does_not() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from server.services.a import A\n"
        "def f():\n    from server.services import b\n"
    )
    modules = {n.module or "" for n in _runtime_nodes(tree) if isinstance(n, ast.ImportFrom)}
    assert modules == {"typing", "server.services"}


def test_no_service_module_imports_one_that_imports_it_back() -> None:
    graph = service_imports()
    assert "cases" in graph and graph, "the services folder was not found"
    assert find_cycle(graph) is None, f"import cycle: {' → '.join(find_cycle(graph) or [])}"
