"""The package's import structure, as docs/design.md draws it: imports go down the layers only, and
no two modules import each other in a circle (imports inside functions count; imports under
`if TYPE_CHECKING:` do not, since they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "audiogym"

# Bottom to top. A module may import its own layer and the layers below it.
LAYERS = [
    {"errors", "io", "benchmarks"},  # benchmarks: public layouts and their official scoring rule
    {"tasks"},
    {"analysis", "features", "data", "stats"},  # measured facts; tasks as dataset rows; statistics
    {"rewards", "policies"},
    {"envs", "evaluation", "plots", "selection", "serve"},
    {"trainers", "integrations"},  # the TRL wrappers and their config sections; other engines
    {"recipe"},  # the MGRD recipe: config, stages, runner, report
    {"sweep"},  # recipe variants on Ray Tune
    {"cli"},
]
# Families register in the registry, which imports a family module lazily when asked for one by name.
ALLOWED_CIRCLES = [{"audiogym.tasks.family", "audiogym.tasks.registry"}]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, root): p for p in root.rglob("*.py")}


def imports(path: Path, known: set[str]) -> set[str]:
    """The package modules `path` imports (`from pkg import submodule` names the submodule)."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                out.update(a.name for a in child.names if a.name in known)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for a in child.names:
                    sub = f"{child.module}.{a.name}"
                    if sub in known:
                        out.add(sub)
                    elif child.module in known:
                        out.add(child.module)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return out


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    mods = modules(root)
    return {m: imports(p, set(mods)) - {m} for m, p in mods.items()}


def layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package's own __init__ re-exports from above
    for i, names in enumerate(LAYERS):
        if parts[1] in names:
            return i
    raise AssertionError(f"{module}: in no layer of tests/test_layers.py (add its folder to LAYERS)")


def upward(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for a, targets in g.items():
        for b in targets:
            la, lb = layer(a), layer(b)
            if la is not None and lb is not None and lb > la:
                bad.append(f"{a} (layer {la}) imports {b} (layer {lb})")
    return sorted(bad)


def circles(g: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(g):
        if v not in index:
            strong(v)
    return out


def test_imports_go_down_the_layers_only():
    assert upward(graph()) == []


def test_no_import_circle_but_the_lazy_registry_one():
    assert [c for c in circles(graph()) if c not in ALLOWED_CIRCLES] == []


@pytest.mark.parametrize(
    "files, expect_upward, expect_circle",
    [
        ({"tasks/a.py": "from audiogym.recipe import b\n", "recipe/b.py": ""}, True, False),
        ({"recipe/a.py": "def f():\n    from audiogym.sweep import b\n", "sweep/b.py": ""}, True, False),
        (
            {
                "recipe/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from audiogym.sweep import b\n",
                "sweep/b.py": "",
            },
            False,
            False,
        ),
        (
            {"recipe/a.py": "from audiogym.recipe import b\n", "recipe/b.py": "from audiogym.recipe.a import x\n"},
            False,
            True,
        ),
        ({"recipe/a.py": "from audiogym.tasks import b\n", "tasks/b.py": ""}, False, False),
    ],
)
def test_the_checks_catch_what_they_are_for(tmp_path, files, expect_upward, expect_circle):
    root = tmp_path / "audiogym"
    for name, text in {
        "__init__.py": "",
        "tasks/__init__.py": "",
        "recipe/__init__.py": "",
        "sweep/__init__.py": "",
        **files,
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    g = graph(root)
    assert bool(upward(g)) == expect_upward
    assert bool(circles(g)) == expect_circle
