"""The import layers hold: `bot` → `index.answers` → `index.engine` → retrieval → embedding → storage,
never upward;
`index` never imports Discord; no module imports itself back through others (imports inside functions
count too: they only defer a cycle, they do not remove it)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Highest first: a module may import its own layer and those below it, never one above.
LAYERS = [
    ("index.cli", "index.__main__"),  # the entry point: `newsbot run` starts the bot
    ("bot",),
    ("index.live.digests",),  # scheduled digests: the answers' summaries on the live schedules
    ("index.answers",),
    ("index.live",),  # feeds and the poller: engine code the bot and the CLI both run
    ("index.engine", "index.ingest", "index.coordination"),  # coordination: the work leases
    ("index.config", "index.metrics"),  # metrics: counters the engine and the bot add to
    ("index.retrieval",),  # question parsing, BM25, FAISS, fusion
    ("index.embedding",),  # the model and the passages it embeds
    ("index.storage",),  # SQLite, the source of truth
    ("index.sources", "index.models", "index.text", "index.words", "index.runtime", "index.scopes"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in ("index", "bot"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


MODULES = modules()


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node but the bodies of `if TYPE_CHECKING:` (annotations only, never run)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
            yield from (n for part in child.orelse for n in walk(part))
            continue
        yield from walk(child)


def imports(name: str, path: Path) -> Iterator[str]:
    """Every module `name` imports, at the top or inside a function, as absolute names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                yield submodule if submodule in MODULES else source


def layer(name: str) -> int | None:
    for rank, members in enumerate(LAYERS):
        if any(name == m or name.startswith(m + ".") for m in members):
            return rank
    return None


def graph() -> dict[str, set[str]]:
    return {
        name: {target for target in imports(name, path) if target in MODULES and target != name}
        for name, path in MODULES.items()
    }


def test_every_module_has_a_layer():
    """A new module is placed in a layer (the bare `index` package marker is empty)."""
    assert [name for name in MODULES if layer(name) is None and name != "index"] == []


def test_no_layer_imports_a_layer_above_it():
    upward = []
    for name, targets in graph().items():
        rank = layer(name)
        for target in targets:
            other = layer(target)
            if rank is not None and other is not None and other < rank:
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_the_engine_never_imports_discord():
    found = [
        f"{name}: {target}"
        for name, path in MODULES.items()
        if name.startswith("index")
        for target in imports(name, path)
        if target == "discord" or target.startswith("discord.")
    ]
    assert found == []


def test_no_import_cycles():
    edges = graph()
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
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
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("name", ["index.cli", "index.engine", "bot.client"])
def test_the_checker_sees_imports(name):
    """The walk finds real imports (an empty graph would pass every test above)."""
    assert graph()[name]
