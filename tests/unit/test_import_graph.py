"""Calls run one way (DESIGN.md §3): no module of market/ takes part in an import cycle, and no
import of a market module hides inside a function to dodge one.

The graph is read from the source with `ast`, imports inside functions included. `__init__.py`
files (which register blueprints and build the app) are left out as nodes: an import that resolves
to a package's `__init__` is ignored. market/cli.py loads its commands lazily and may import inside
functions; market/__init__.py is the application factory and is a package `__init__`.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "market"
# Modules allowed to import market modules inside functions (lazy CLI loading).
LAZY_IMPORTERS = frozenset({"market.cli"})
# Above every context: only entry points (views, the API, jobs and webhook jobs) import them.
TOP = frozenset({"market.orders.lifecycle", "market.orders.actions"})

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imported_names(node: ast.AST, current: str, is_package: bool) -> list[str]:
    """Every dotted name an import statement may load (the module and, for `from x import y`,
    the candidate submodule x.y)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = current.split(".") if is_package else current.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    return [mod] + [f"{mod}.{alias.name}" for alias in node.names]


def _edge_targets(names: list[str], modules: set[str]) -> set[str]:
    """`from a.b import c` is an edge to a.b.c when that is a module, to a.b when that is; a name
    that resolves to a package (its __init__) or lies outside the package is no edge."""
    return {name for name in names if name in modules}


def read_imports(root: Path = ROOT, package: str = PACKAGE):
    """(graph of module → modules it imports, [(module, line, target) of function-level imports])."""
    files = sorted((root / package).rglob("*.py"))
    names = {module_name(p, root): p for p in files}
    modules = {n for n, p in names.items() if p.name != "__init__.py"}
    graph: Graph = {m: set() for m in modules}
    nested: list[tuple[str, int, str]] = []
    for name, path in names.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, in_function in _walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            imported = _imported_names(node, name, is_package)
            if in_function and any(n == package or n.startswith(package + ".") for n in imported):
                nested.append((name, node.lineno, imported[0]))
            if not is_package:
                graph[name] |= _edge_targets(imported, modules) - {name}
    return graph, nested


def _walk(tree: ast.AST):
    """Every node with whether it sits inside a function (a def or a lambda)."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, inside = stack.pop()
        yield node, inside
        nested = inside or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        stack.extend((child, nested) for child in ast.iter_child_nodes(node))


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as [a, b, …, a], or None. Iterative depth-first search, deterministic order."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {n: WHITE for n in graph}
    for start in sorted(graph):
        if colour[start] != WHITE:
            continue
        path = [start]
        iters = [iter(sorted(graph[start]))]
        colour[start] = GREY
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                colour[path.pop()] = BLACK
                iters.pop()
                continue
            state = colour.get(nxt, BLACK)  # targets outside the graph cannot close a cycle
            if state == GREY:
                return path[path.index(nxt):] + [nxt]
            if state == WHITE:
                colour[nxt] = GREY
                path.append(nxt)
                iters.append(iter(sorted(graph.get(nxt, ()))))
    return None


# --- the finder itself, on synthetic graphs: the real test must be able to fail ---------------

def test_find_cycle_finds_a_cycle_and_names_it():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


def test_find_cycle_finds_a_self_loop_and_a_cycle_reached_late():
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {"c"}}) == ["c", "d", "c"]


def test_find_cycle_accepts_a_dag_with_shared_descendants():
    graph = {"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set(), "e": {"a", "x"}}
    assert find_cycle(graph) is None


def test_read_imports_on_a_synthetic_package(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg import a\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg import a\n")
    (pkg / "sub" / "c.py").write_text("from . import b\nimport pkg.sub\nfrom .b import f\n")
    graph, nested = read_imports(tmp_path, "pkg")
    assert graph == {"pkg.a": {"pkg.sub.b"}, "pkg.sub.b": {"pkg.a"}, "pkg.sub.c": {"pkg.sub.b"}}
    assert nested == [("pkg.sub.b", 2, "pkg")]
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]


# --- market/ ----------------------------------------------------------------------------------

def test_market_has_no_import_cycle():
    graph, _ = read_imports()
    assert len(graph) > 100  # the walk found the code
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_market_import_hides_inside_a_function():
    _, nested = read_imports()
    offenders = [f"{mod}:{line} imports {target}" for mod, line, target in nested
                 if mod not in LAZY_IMPORTERS and mod != PACKAGE]
    assert not offenders, "function-level imports:\n" + "\n".join(offenders)


def is_entry_point(module: str) -> bool:
    """Views, the API, jobs (webhook processing included) and the app's web wiring."""
    last = module.rsplit(".", 1)[-1]
    return (module.startswith("market.api.") or last.endswith("views") or last in
            ("jobs", "webhooks", "app") or module in TOP)


def test_only_entry_points_call_the_lifecycle():
    """Calls run one way: views/API/jobs → lifecycle → contexts; no context calls back up."""
    graph, _ = read_imports()
    offenders = sorted(f"{mod} imports {target}" for mod, targets in graph.items()
                       for target in targets & TOP if not is_entry_point(mod))
    assert not offenders, "\n".join(offenders)
