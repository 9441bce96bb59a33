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
