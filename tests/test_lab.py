"""`make lab`: every notebook runs top to bottom as JupyterLab runs it (from notebooks/, no injected
parameters, so on the default borough), and the default viewer opens the text notebooks as
notebooks. The run is slow (it generates and processes the default borough): `make test-slow`."""

import json
import os
import shutil
import sys

import pytest

from pipeline import paths
from pipeline.cli import notebook_names


def test_jupyterlab_opens_text_notebooks_as_notebooks():
    overrides = json.loads((paths.CONFIG / "jupyterlab-overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["python"] == "Jupytext Notebook"
    assert "jupyterlab-overrides.json" in (paths.ROOT / "Makefile").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("name", notebook_names())
def test_notebook_runs_top_to_bottom_on_the_default_borough(name, tmp_path_factory, monkeypatch):
    import jupytext
    import nbformat
    import papermill as pm

    root = tmp_path_factory.getbasetemp() / "lab-project"
    if not root.exists():  # one copy (and one synthetic default borough) for every notebook
        root.mkdir()
        for rel in ("pipeline", "notebooks", "config"):
            shutil.copytree(paths.ROOT / rel, root / rel, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    monkeypatch.setenv("SP_EVAL_ROOT", str(root))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    src = root / "notebooks" / f"{name}.py"
    nb_in = root / f"{name}.in.ipynb"
    nbformat.write(jupytext.read(src), nb_in)
    pm.execute_notebook(str(nb_in), str(root / f"{name}.out.ipynb"), kernel_name="python3",
                        cwd=str(root / "notebooks"), progress_bar=False)
