"""Each Make stage's prerequisites, derived from the imports of ``pipeline/`` and ``notebooks/``.

``python -m pipeline.deps`` prints ``build/deps.mk``, which the Makefile includes: one variable per
stage listing the source files whose change makes that stage's output stale::

    PROCESS_DEPS    data_raw/<b>/ -> data_processed/<b>/   (python -m pipeline process)
    NOTEBOOKS_DEPS  -> build/<b>/notebooks/  (python -m pipeline notebooks, and the notebooks' kernel)
    PUBLISH_DEPS    -> reports/<b>/          (python -m pipeline publish)
    LONDON_DEPS     -> reports/london/       (python -m pipeline london)

The import graph is static (:mod:`ast`, no code is run) and follows imports inside functions too,
since the package imports lazily in many places. It is kept at the level of top-level functions
and classes, so that ``from .cli import process`` brings in what ``process`` can reach, not every
command of the command line:

- importing a module runs its top level: the imports outside functions and the functions it calls
  there (``if TYPE_CHECKING:`` and ``if __name__ == "__main__":`` blocks are not run on import);
- a function (or class) needs its module's top level, the imports anywhere in its body, and the
  module's other functions and classes that it names;
- ``from M import name`` needs ``name`` when it is a function or class of M, M's top level when it
  is anything else (a constant, or a name M imports), and the whole of M when it is a submodule;
  ``import M`` (and ``from P import M``) needs the whole of M: its top level and every function.

A stage starts from the command-line function that runs it (``python -m pipeline`` runs
``__init__``, ``__main__`` and the top level of ``cli``, whose ``main`` only dispatches to it), and
the notebook stage also from every import in ``notebooks/*.py``, which its kernel runs. A module
that reads a file of the project at run time lists it in :data:`READS`; a function that imports a
package's modules by discovery (the section registry) in :data:`DISCOVERS`. Only the standard library
is used here, so the Makefile can run this before the environment exists.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pipeline"
#: the files every ``python -m pipeline <command>`` runs before it reaches the command's function
RUNNER = ("pipeline/__init__.py", "pipeline/__main__.py", "pipeline/cli.py")
#: stage -> (Make variable, the command-line functions it starts from, whether the notebooks' imports count)
STAGES = {
    "process": ("PROCESS_DEPS", ("pipeline.cli:process",), False),
    "notebooks": ("NOTEBOOKS_DEPS", ("pipeline.cli:cmd_notebooks",), True),
    "publish": ("PUBLISH_DEPS", ("pipeline.cli:publish",), False),
    "london": ("LONDON_DEPS", ("pipeline.cli:cmd_london",), False),
}
#: functions that import every module of a package at run time (the section registry finds the
#: sections declared in pipeline/analyses/ by importing each module): no ``import`` statement shows them
DISCOVERS = {"pipeline.sections:registry": "pipeline.analyses"}
#: files of the project a module reads when it runs (relative to the project root)
READS = {
    "pipeline.config": ("config/defaults.yml",),
    "pipeline.london.page": ("pipeline/london/page.html.j2",),
}


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    top: list[ast.AST] = field(default_factory=list)  # statements run on import (function bodies left out)
    defs: dict[str, ast.AST] = field(default_factory=dict)  # top-level functions and classes


def _not_run_on_import(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` (never run) and ``if __name__ == "__main__":`` (run as a script only)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    if isinstance(test, ast.Name | ast.Attribute):
        return getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def _walk(nodes: list[ast.AST], into_functions: bool) -> list[ast.AST]:
    """Every node under ``nodes``, leaving out ``if TYPE_CHECKING:`` blocks and, unless
    ``into_functions``, the bodies of functions (they run when called, not when defined)."""
    out, stack = [], list(nodes)
    while stack:
        node = stack.pop()
        if _not_run_on_import(node):
            continue
        out.append(node)
        if not into_functions and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(node.decorator_list if not isinstance(node, ast.Lambda) else [])
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


@cache
def modules(root: Path = ROOT) -> dict[str, Module]:
    """Every module of the package under ``root``, parsed."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mod = Module(".".join(parts), path, rel.name == "__init__")
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except SyntaxError as e:  # the stage fails on it when it runs; its imports cannot be read now
            print(f"pipeline/deps.py: {e.filename}:{e.lineno}: {e.msg}; its imports are not followed",
                  file=sys.stderr)
            tree = ast.Module(body=[], type_ignores=[])
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                mod.defs[node.name] = node
                if isinstance(node, ast.ClassDef):
                    mod.top.append(node)  # a class body runs on import (its methods do not)
                else:
                    mod.top.extend(node.decorator_list)
            else:
                mod.top.append(node)
        out[mod.name] = mod
    return out


def _base(mod: Module | None, node: ast.ImportFrom) -> str:
    """The absolute name of what ``from <node.module> import ...`` imports from."""
    if not node.level:
        return node.module or ""
    package = mod.name if mod.is_package else mod.name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _local_names(nodes: list[ast.AST]) -> set[str]:
    """Names a function binds itself (arguments, assignments): a local ``report`` is not the
    module's function ``report``."""
    names = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)}
    return names | {n.arg for n in nodes if isinstance(n, ast.arg)}


def _needs(nodes: list[ast.AST], mod: Module | None, mods: dict[str, Module],
           local: frozenset[str] | set[str] = frozenset()) -> set[tuple[str, str | None]]:
    """The units (module, function or class; ``None``: the top level; ``"*"``: the whole module)
    that the imports among ``nodes`` need, and the module's own functions and classes they name
    (other than the ``local`` names)."""
    units: set[tuple[str, str | None]] = set()

    def imported(name: str, symbol: str | None) -> None:
        parts = name.split(".")
        for i in range(1, len(parts)):  # importing a.b.c runs the top level of a and a.b first
            units.add((".".join(parts[:i]), None))
        units.add((name, symbol))

    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported(alias.name, "*")
        elif isinstance(node, ast.ImportFrom):
            base = _base(mod, node)
            if base not in mods:
                continue
            imported(base, None)
            for alias in node.names:
                if f"{base}.{alias.name}" in mods:
                    imported(f"{base}.{alias.name}", "*")
                elif alias.name in mods[base].defs:
                    units.add((base, alias.name))
        elif mod is not None and isinstance(node, ast.Name) and node.id in mod.defs and node.id not in local:
            units.add((mod.name, node.id))
    return {(m, s) for m, s in units if m in mods}


def closure(start: set[tuple[str, str | None]], mods: dict[str, Module]) -> set[str]:
    """The modules reached from ``start`` units."""
    seen: set[tuple[str, str | None]] = set()
    todo = list(start)
    while todo:
        unit = todo.pop()
        if unit in seen:
            continue
        seen.add(unit)
        name, symbol = unit
        mod = mods[name]
        if symbol is None:
            todo.extend(_needs(_walk(mod.top, into_functions=False), mod, mods))
        elif symbol == "*":
            todo.append((name, None))
            todo.extend((name, d) for d in mod.defs)
        else:
            todo.append((name, None))
            body = _walk([mod.defs[symbol]], into_functions=True)
            todo.extend(_needs(body, mod, mods, _local_names(body) - {symbol}))
            package = DISCOVERS.get(f"{name}:{symbol}")
            if package:
                todo.extend((m, "*") for m in mods if m.startswith(package + "."))
    return {name for name, _ in seen}


def notebook_units(root: Path, mods: dict[str, Module]) -> set[tuple[str, str | None]]:
    """What the notebooks' imports need (a notebook is a script: all of it runs)."""
    units: set[tuple[str, str | None]] = set()
    for nb in sorted((root / "notebooks").glob("[0-9]*.py")):
        units |= _needs(_walk([ast.parse(nb.read_text(encoding="utf-8"))], into_functions=True), None, mods)
    return units


def reached(entries: tuple[str, ...], root: Path = ROOT, with_notebooks: bool = False) -> set[str]:
    """The modules reached from ``entries`` (``module`` or ``module:function``), and from the
    notebooks' imports when ``with_notebooks``."""
    mods = modules(root)
    start = {(name, symbol or "*") for name, _, symbol in (e.partition(":") for e in entries)}
    if with_notebooks:
        start |= notebook_units(root, mods)
    return closure(start, mods)


def stage_files(stage: str, root: Path = ROOT) -> list[str]:
    """The project files (relative paths) whose change makes ``stage``'s output stale."""
    _, entries, with_notebooks = STAGES[stage]
    mods = modules(root)
    names = reached(entries, root, with_notebooks)
    files = set(RUNNER) | {mods[m].path.relative_to(root).as_posix() for m in names}
    for m in names:
        files.update(READS.get(m, ()))
    return sorted(files)


def makefile(root: Path = ROOT) -> str:
    lines = ["# Generated by pipeline/deps.py from the imports of pipeline/ and notebooks/: do not edit.", ""]
    for stage, (var, _, _) in STAGES.items():
        lines.append(f"{var} := \\\n" + " \\\n".join(f"  {f}" for f in stage_files(stage, root)))
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(makefile(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT))
