"""The code's layout is part of the lesson: no import cycles, and one front door.

Every application module's imports are read with `ast` (deferred imports inside functions
included, since they hide cycles rather than remove them), and the graph between the
app's own modules must have no cycle. Outside `apiserver/`, nothing may reach the cluster
store, the API server's models, its registry or its pipeline: other parts talk to the API
server through `apiserver.client` and read what it publishes (`apiserver.readmodel`).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("hub", "catalog", "apiserver", "controlplane", "shop", "learning")
# The API server's insides: only apiserver/ itself may import these.
PRIVATE = (
    "apiserver.models",
    "apiserver.registry",
    "apiserver.pipeline",
    "apiserver.filters.audit",
    "apiserver.endpoints.handlers",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The app modules `name` imports, resolved to modules (not the names inside them)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                targets.add(candidate if candidate in MODULES else base)
    return {t for t in targets if t in MODULES and t != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_is_read_from_the_real_modules():
    assert "apiserver.pipeline" in GRAPH
    assert "apiserver.filters.authentication" in GRAPH["apiserver.pipeline"]
    assert "apiserver.client" in GRAPH["controlplane.runner"]


def test_application_modules_import_each_other_without_cycles():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("app", [app for app in APPS if app != "apiserver"])
def test_other_apps_reach_the_api_server_only_through_its_front_door(app):
    reaching_in = {
        name: sorted(t for t in targets if t.startswith(PRIVATE))
        for name, targets in GRAPH.items()
        if name.split(".")[0] == app
    }
    assert {name: found for name, found in reaching_in.items() if found} == {}
