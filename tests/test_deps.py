"""Each Make stage's prerequisites (pipeline/deps.py -> build/deps.mk): the static import graph
on a small made-up package, and, end to end, every module and project file that a stage really
imports or reads is a prerequisite of that stage's target as Make sees it."""

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from pipeline import deps, paths

# --------------------------------------------------------------------------- the import graph

PACKAGE = {
    "__init__.py": "",
    "cli.py": """
        from . import paths
        from .errors import Oops

        def build():
            from .load import read
            report = 1  # a local name, not the function below
            return read(), helper(), report

        def helper():
            import pipeline.maths
            return pipeline.maths

        def report():
            from .render import page
            return page()

        def main():
            build()
            report()

        if __name__ == "__main__":
            main()
        """,
    "paths.py": "ROOT = '.'\n",
    "errors.py": "class Oops(Exception):\n    pass\n",
    "load.py": """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from .render import Page

        def read():
            from .text import codes
            return codes()

        def write():
            from .publish import publish
            return publish()
        """,
    "text.py": "def codes():\n    return 1\n",
    "maths.py": "def mean():\n    from .stats import sd\n    return sd\n",
    "stats.py": "sd = 1\n",
    "render.py": "def page():\n    pass\n",
    "publish.py": "def publish():\n    pass\n",
    "nb.py": "from .cli import build\n",
    "kit/__init__.py": "from .tools import tool\n",
    "kit/tools.py": "def tool():\n    from ..stats import sd\n    return sd\n",
}


@pytest.fixture
def package(tmp_path):
    for rel, text in PACKAGE.items():
        f = tmp_path / "pipeline" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text))
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "10_a.py").write_text("# %%\nfrom pipeline import nb\nfrom pipeline.kit import tool\n")
    deps.modules.cache_clear()
    yield tmp_path
    deps.modules.cache_clear()


def test_a_function_brings_what_it_imports_and_calls_not_its_neighbours(package):
    got = deps.reached(("pipeline.cli:build",), package)
    # build's lazy import, helper's (a function build calls) with the whole of maths (import M),
    # and cli's top level; not report (a local variable of the same name), main, render or publish
    assert got == {"pipeline", "pipeline.cli", "pipeline.paths", "pipeline.errors", "pipeline.load",
                   "pipeline.text", "pipeline.maths", "pipeline.stats"}


def test_type_checking_and_script_blocks_are_not_imports(package):
    assert "pipeline.render" not in deps.reached(("pipeline.load:read",), package)  # under TYPE_CHECKING
    # nb imports cli's build: cli's top level runs, but not its `if __name__ == "__main__": main()`
    assert "pipeline.render" not in deps.reached(("pipeline.nb",), package)
    # the whole of cli (import pipeline.cli) has every function, report's render too
    assert "pipeline.render" in deps.reached(("pipeline.cli",), package)


def test_the_notebooks_imports_count_for_their_stage(package):
    got = deps.reached((), package, with_notebooks=True)
    assert {"pipeline.nb", "pipeline.cli", "pipeline.load", "pipeline.kit", "pipeline.kit.tools",
            "pipeline.stats"} <= got
    assert "pipeline.publish" not in got and "pipeline.render" not in got
    assert "pipeline.nb" not in deps.reached((), package)


def test_the_section_registry_brings_every_analysis_module(package, monkeypatch):
    """The registry imports each module of pipeline/analyses/ by discovery: no import statement shows
    them, so a notebook that only calls nb.section(...) still depends on every section's module."""
    for rel, text in {"sections.py": "def registry():\n    import importlib\n",
                      "analyses/__init__.py": "", "analyses/toy.py": "from ..stats import sd\n",
                      "shows.py": "from .sections import registry\n"}.items():
        (package / "pipeline" / rel).parent.mkdir(parents=True, exist_ok=True)
        (package / "pipeline" / rel).write_text(text)
    deps.modules.cache_clear()
    assert "pipeline.analyses.toy" in deps.reached(("pipeline.shows",), package)
    monkeypatch.setattr(deps, "DISCOVERS", {})
    assert "pipeline.analyses.toy" not in deps.reached(("pipeline.shows",), package)


def test_every_file_a_module_reads_is_listed():
    """A non-Python file inside the package (a template) is read by some module: READS says which,
    so it is a prerequisite of the stages that import that module."""
    data = {f.relative_to(paths.ROOT).as_posix() for f in (paths.ROOT / "pipeline").rglob("*")
            if f.is_file() and f.suffix not in {".py", ".pyc"} and "__pycache__" not in f.parts}
    listed = {f for files in deps.READS.values() for f in files}
    assert data <= listed
    assert all((paths.ROOT / f).is_file() for f in listed)
    assert all(m in deps.modules() for m in deps.READS)


def test_deps_mk_lists_each_stage():
    text = deps.makefile()
    for var, _, _ in deps.STAGES.values():
        assert f"\n{var} := \\\n" in text
    assert "pipeline/textcodes.py" in deps.stage_files("process")  # load.py imports it
    assert "pipeline/london/page.html.j2" in deps.stage_files("london")
    assert "pipeline/london/page.py" not in deps.stage_files("publish")
    assert "pipeline/nb.py" not in deps.stage_files("publish")


# --------------------------------------------------------------------------- what the stages really use

SITECUSTOMIZE = '''
"""Records what this process imports from the pipeline package and which files it opens."""
import json, os, sys

_LOG = os.environ.get("SP_IMPORT_LOG")


def _record(kind, what):
    with open(os.path.join(_LOG, f"{os.getpid()}.jsonl"), "a") as f:
        f.write(json.dumps({"argv": sys.argv, kind: what}) + "\\n")


class _Recorder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pipeline" or name.startswith("pipeline."):
            _record("module", name)
        return None


def _opened(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)) and not isinstance(args[0], int):
        path = os.path.join(os.getcwd(), os.fsdecode(args[0]))
        if path.startswith(os.getcwd() + os.sep) and not path.endswith(".pyc"):
            _record("file", path)


if _LOG:
    sys.meta_path.insert(0, _Recorder)
    sys.addaudithook(_opened)
'''


def _stage_of(argv):
    """The stage a process belongs to, from its command line (None: not a stage)."""
    args = [a for a in argv[1:] if not a.startswith("-")]
    if any("ipykernel" in a or "kernel-" in a for a in argv):
        return "notebooks"  # the notebooks' kernel
    return args[0] if args and args[0] in deps.STAGES else None


def used_by_stage(log: Path, root: Path) -> dict[str, set[str]]:
    """stage -> project files (relative) its processes imported (pipeline modules) or opened."""
    mods = {m.name: m.path.relative_to(root) for m in deps.modules(root).values()}
    out: dict[str, set[str]] = {s: set() for s in deps.STAGES}
    for f in log.glob("*.jsonl"):
        for line in f.read_text().splitlines():
            rec = json.loads(line)
            stage = _stage_of(rec["argv"])
            if stage is None:
                continue
            if "module" in rec and rec["module"] in mods:
                out[stage].add(mods[rec["module"]].as_posix())
            elif "file" in rec:
                p = Path(os.path.normpath(rec["file"]))
                if p.is_relative_to(root) and p.is_file():
                    rel = p.relative_to(root)
                    if rel.parts[0] in {"pipeline", "config", "notebooks", "templates"}:
                        out[stage].add(rel.as_posix())
    return out


def make_prerequisites(root: Path, target: str) -> set[str]:
    """The prerequisites of ``target`` as Make sees them (its database after reading the Makefile
    and build/deps.mk)."""
    from sites import make

    db = make(root, "-pq", target, check=False).stdout
    line = next(ln for ln in db.splitlines() if ln.startswith(f"{target}:"))
    return set(line.split(":", 1)[1].split("|")[0].split())


STAGE_TARGETS = {"process": "data_processed/tiny/manifest.json", "notebooks": "build/tiny/notebooks/.executed",
                 "publish": "reports/tiny/results.json", "london": "reports/london/index.html"}


def missing_prerequisites(used: dict[str, set[str]], root: Path) -> dict[str, set[str]]:
    return {stage: used[stage] - make_prerequisites(root, target) for stage, target in STAGE_TARGETS.items()}


@pytest.mark.e2e
def test_every_module_a_stage_imports_is_a_prerequisite(tmp_path):
    """Build the tiny extract's report and the London comparison with every Python process
    recording what it imports and opens, then ask Make for each stage target's prerequisites."""
    from sites import copy_project, make, write_london_results

    root = tmp_path / "project"
    copy_project(root)
    shutil.copytree(paths.ROOT / "tests" / "fixtures" / "tiny", root / "data_raw" / "tiny")
    probe, log = tmp_path / "probe", tmp_path / "log"
    probe.mkdir()
    log.mkdir()
    (probe / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {"PYTHONPATH": str(probe), "SP_IMPORT_LOG": str(log)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        make(root, "report", "BOROUGH=tiny")
        write_london_results(root / "reports")
        make(root, "london")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    used = used_by_stage(log, root)
    # the probe saw each stage (the kernel too), and what every stage is known to use
    assert {"pipeline/load.py", "pipeline/textcodes.py", "pipeline/paths.py", "config/defaults.yml"} <= used["process"]
    assert {"pipeline/nb.py", "pipeline/memory.py", "pipeline/analyses/activity/__init__.py",
            "notebooks/20_activity.py"} <= used["notebooks"]
    assert {"pipeline/publish.py", "pipeline/render.py"} <= used["publish"]
    assert {"pipeline/london/page.py", "pipeline/london/page.html.j2", "pipeline/areas.py"} <= used["london"]
    assert missing_prerequisites(used, root) == {s: set() for s in STAGE_TARGETS}

    # the check has teeth: a module dropped from the derived list is reported
    mk = root / "build" / "deps.mk"
    text = mk.read_text()
    assert text.index("PROCESS_DEPS") < text.index("pipeline/textcodes.py") < text.index("NOTEBOOKS_DEPS")
    mk.write_text(text.replace("pipeline/textcodes.py", "pipeline/paths.py", 1))  # dropped from PROCESS_DEPS
    future = max(p.stat().st_mtime for p in (root / "pipeline").rglob("*.py")) + 3600
    os.utime(mk, (future, future))  # newer than every source: Make keeps the edited copy
    assert missing_prerequisites(used, root)["process"] == {"pipeline/textcodes.py"}


def test_a_module_that_does_not_parse_is_still_listed(package, capsys):
    (package / "pipeline" / "text.py").write_text("def codes(:\n")
    assert "pipeline.text" in deps.reached(("pipeline.load:read",), package)
    assert "text.py:1" in capsys.readouterr().err
