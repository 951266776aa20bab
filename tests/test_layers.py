"""The import graph flows one way (docs/architecture.md, "Layers"; rule on one-way data flow).

Every module of sandbox/, marketplaces/ and investigator_tools/ is parsed with `ast`; its
imports, top-level and inside functions alike (an import hidden in a function still ties
the two modules together), become edges of a module graph. Importing `a.b.c` also runs
the `__init__` of `a.b` and `a`, so those are edges too. The layers are read from the
layer table of docs/architecture.md, so the table and this test cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sandbox", "marketplaces", "investigator_tools")
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# The build-time generator of the world: only the build itself and the commands on top
# of everything (`sandbox build`, `sandbox check`) may import it. Services, the network
# and the running chain take what they need from the world file.
GENERATOR = ("sandbox.world.build", "sandbox.world.content", "sandbox.ledger.sim")

# The toolkit stands apart: it imports nothing of the engine (tests/test_style.py checks
# that too), and of the engine only the commands layer (`sandbox check` solves a world
# with the toolkit) may import it.
TOOLKIT = "investigator_tools"

# Entries that name a package's __init__ only, not the modules under it: every module of
# sandbox/ must be placed by an entry of its own.
INIT_ONLY = ("sandbox",)


def _module_files() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    modules = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            modules[".".join(parts)] = (path, is_package)
    return modules


def _known(name: str, modules) -> str | None:
    """The longest prefix of a dotted name that is one of our modules."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(name: str, path: Path, is_package: bool, modules) -> set[str]:
    """The modules of ours that one module imports, anywhere in its body."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import sub` imports the submodule `pkg.sub` when there is one.
            targets = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in modules]
            targets.append(module)
        else:
            continue
        for target in targets:
            target = _known(target, modules)
            # Importing a.b.c runs a/__init__ and a/b/__init__ first.
            while target:
                if target != name and not name.startswith(target + "."):
                    found.add(target)
                target = target.rpartition(".")[0]
    return found


def import_graph() -> nx.DiGraph:
    """Our modules and who imports whom."""
    modules = _module_files()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, (path, is_package) in modules.items():
        for target in _imported(name, path, is_package, modules):
            graph.add_edge(name, target)
    return graph


def layer_table() -> dict[str, tuple[int | None, str]]:
    """Package or module prefix -> (layer number, or None for the toolkit; layer name)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"\d+|toolkit", cells[0]):
            continue
        number = None if cells[0] == "toolkit" else int(cells[0])
        for prefix in re.findall(r"`([a-z][a-z0-9_.]*)`", cells[2]):
            assert prefix not in table, f"{ARCHITECTURE}: {prefix} is in two layers"
            table[prefix] = (number, cells[1])
    return table


def _unit(module: str, table) -> str:
    """The layer-table entry (the longest prefix listed) a module belongs to."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in table and (prefix == module or prefix not in INIT_ONLY):
            return prefix
    raise AssertionError(f"{module}: in no layer of {ARCHITECTURE}'s layer table")


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.fixture(scope="module")
def graph():
    return import_graph()


@pytest.fixture(scope="module")
def table():
    return layer_table()


def test_layer_table_is_read(table):
    """The table in docs/architecture.md has the layers the rules below rely on."""
    assert table["sandbox.ledger"][0] < table["sandbox.scenario"][0]
    assert table["sandbox.scenario"][0] < table["sandbox.world"][0]
    assert table["sandbox.world"][0] < table["marketplaces"][0] < table["sandbox.gateway"][0]
    assert table[TOOLKIT][0] is None


def test_every_module_has_a_layer(graph, table):
    """Each module falls under one entry of the layer table."""
    for module in graph:
        _unit(module, table)


def test_no_import_cycle_between_modules(graph):
    """No two modules import each other, directly or round a loop."""
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_no_import_cycle_between_packages(graph, table):
    """The entries of the layer table (packages) import each other one way only."""
    units = nx.DiGraph()
    for a, b in graph.edges:
        ua, ub = _unit(a, table), _unit(b, table)
        if ua != ub:
            units.add_edge(ua, ub, example=f"{a} -> {b}")
    cycles = []
    for component in nx.strongly_connected_components(units):
        if len(component) > 1:
            edges = [units.edges[e]["example"] for e in units.subgraph(component).edges]
            cycles.append(sorted(edges))
    assert not cycles, f"packages importing each other: {cycles}"


def test_no_upward_import(graph, table):
    """A module imports only from its own layer or the layers below it."""
    top = max(n for n, _ in table.values() if n is not None)
    upward = []
    for a, b in graph.edges:
        (la, name_a), (lb, name_b) = table[_unit(a, table)], table[_unit(b, table)]
        if la is None and lb is None:
            continue
        if la is None:  # the toolkit imports no layer of the engine
            upward.append(f"{a} ({name_a}) -> {b} ({name_b})")
        elif lb is None:  # only the commands on top may use the toolkit
            if la != top:
                upward.append(f"{a} ({name_a}) -> {b} ({name_b})")
        elif lb > la:
            upward.append(f"{a} (layer {la}, {name_a}) -> {b} (layer {lb}, {name_b})")
    assert not upward, "imports going up a layer:\n" + "\n".join(sorted(upward))


def test_only_the_build_imports_the_generator(graph, table):
    """Services, the network and the running chain take nothing from the generator's code."""
    world = table["sandbox.world"][0]
    top = max(n for n, _ in table.values() if n is not None)
    bad = []
    for a, b in graph.edges:
        layer = table[_unit(a, table)][0]
        if layer is None or layer <= world or layer == top or not _within(b, GENERATOR):
            continue
        bad.append(f"{a} -> {b}")
    assert not bad, "the generator's internals imported above the world:\n" + "\n".join(bad)


def test_graph_sees_function_level_imports(graph):
    """The parser follows imports inside functions and relative imports (so it can fail)."""
    # sandbox/tor/network.py imports the world store inside a function.
    assert graph.has_edge("sandbox.tor.network", "sandbox.world.store")
    # `from . import api, web` in the explorer's package imports its submodules.
    assert graph.has_edge("sandbox.explorer", "sandbox.explorer.api")
