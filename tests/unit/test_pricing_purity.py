"""pricing/ stays pure: standard library only (no Flask, SQLAlchemy or market/), no import inside
a function, no import cycle among its modules, every module under ~400 lines."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pricing"


def imports() -> dict[str, list[tuple[str, bool]]]:
    """module → [(imported top-level module or pricing.x, inside a function)]."""
    out = {}
    for path in sorted(PACKAGE.glob("*.py")):
        found = []
        stack = [(ast.parse(path.read_text(encoding="utf-8")), False)]
        while stack:
            node, inside = stack.pop()
            if isinstance(node, ast.Import):
                found += [(a.name, inside) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                found.append((node.module or "", inside))
            deeper = inside or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            stack.extend((child, deeper) for child in ast.iter_child_nodes(node))
        out[path.stem] = found
    return out


def test_only_the_standard_library_and_no_import_inside_a_function():
    for module, found in imports().items():
        for name, inside in found:
            top = name.split(".")[0]
            assert top == "pricing" or top in sys.stdlib_module_names, (module, name)
            assert not inside, (module, name)


def test_no_import_cycle_and_small_modules():
    graph = {m: {n.split(".")[1] for n, _ in found if n.startswith("pricing.")}
             for m, found in imports().items() if m != "__init__"}
    done: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, " → ".join(path + (m,))
        if m not in done:
            for n in sorted(graph.get(m, ())):
                visit(n, path + (m,))
            done.add(m)

    for m in sorted(graph):
        visit(m, ())
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name
