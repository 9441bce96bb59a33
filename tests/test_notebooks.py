"""Every report notebook is a jupytext text notebook with a parameters cell that runs as-is."""

import ast
import re
import subprocess
import sys

import jupytext
import pytest

from pipeline import paths
from pipeline.cli import notebook_names

NAMES = notebook_names()


def test_there_are_report_notebooks():
    assert "20_activity" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_parameters_cell_defaults(name):
    nb = jupytext.read(paths.NOTEBOOKS / f"{name}.py")
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    values = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    assert isinstance(values.get("borough"), str) and values["borough"]
    assert values.get("processed_dir") is None and values.get("fragments_dir") is None
    assert "period" in values and values["period"] is None
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "starts with a title"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_calls_setup_with_its_parameters(name):
    text = (paths.NOTEBOOKS / f"{name}.py").read_text()
    assert re.search(r'nb\.section\("\w+", borough, processed_dir, fragments_dir, period[,)]', text) \
        or "nb.setup(borough, processed_dir, fragments_dir, period)" in text


def test_package_importable_from_the_notebooks_folder():
    """`make lab` starts JupyterLab in notebooks/: the kernel must import the package from there."""
    out = subprocess.run([sys.executable, "-c", "import pipeline, sys; print(pipeline.__file__)"],
                         cwd=paths.NOTEBOOKS, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert str(paths.ROOT / "pipeline") in out.stdout


def shows_without_data(source: str) -> list[int]:
    """Lines of ``show(...)`` / ``nb.show(...)`` calls in ``source`` that pass no ``data=``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Name) and f.id == "show") or (isinstance(f, ast.Attribute) and f.attr == "show"
                                                           and isinstance(f.value, ast.Name) and f.value.id == "nb"):
            if not any(k.arg == "data" for k in node.keywords):
                out.append(node.lineno)
    return out


def test_the_chart_check_finds_a_chart_without_its_numbers():
    src = ("nb.show(fig, alt='a')\n"
           "nb.show(fig, alt='b', data=df)\n"
           "show(fig, layout=False)\n"
           "fig.show()\n"
           "if ok:\n    nb.show(\n        fig,\n        alt='c')\n")
    assert shows_without_data(src) == [1, 3, 6]


@pytest.mark.parametrize("name", NAMES)
def test_every_chart_passes_its_numbers(name):
    """A chart's published numbers are its CSV download and table alternative: ``data=`` is required."""
    missing = shows_without_data((paths.NOTEBOOKS / f"{name}.py").read_text())
    assert not missing, f"notebooks/{name}.py: nb.show(...) without data= at line(s) {missing}"
