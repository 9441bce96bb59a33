"""The notebook executor: a borough's notebooks in one kernel, each from an empty namespace, and
a failure named by notebook and cell (each test starts one real kernel)."""

import nbformat
import pytest

from pipeline.execute import RESET_TAG, NotebookFailed, run_notebooks


def write_notebook(path, *cells):
    """A jupytext percent notebook with a parameters cell and the given code cells."""
    body = ['# %% [markdown]\n# # A notebook\n', '# %% tags=["parameters"]\nborough = "merton"\n']
    body += [f"# %%\n{c}\n" for c in cells]
    path.write_text("\n".join(body), encoding="utf-8")
    return path


def run(tmp_path, *notebooks):
    jobs = [(write_notebook(tmp_path / f"{name}.py", *cells), tmp_path / "out" / f"{name}.ipynb", {"borough": "x"})
            for name, cells in notebooks]
    return run_notebooks(jobs, cwd=tmp_path, log=lambda m: None, label="t")


def test_notebooks_share_a_kernel_but_not_a_namespace(tmp_path):
    done = run(tmp_path,
               ("10_first", ["import os, sys", "sys.sp_kernel_pid = os.getpid()", "leftover = 1"]),
               ("20_second", ["import os, sys",
                              "assert sys.sp_kernel_pid == os.getpid(), 'a new kernel'",
                              "assert 'leftover' not in globals(), 'the last notebook leaked'",
                              "assert borough == 'x'"]))
    assert [p.name for p in done] == ["10_first.ipynb", "20_second.ipynb"]
    nb = nbformat.read(done[1], as_version=4)
    assert RESET_TAG in nb.cells[0].metadata["tags"], "the reset cell comes first and is tagged"
    assert not list((tmp_path / "out").glob(".*")), "no temporary notebook is left behind"


def test_a_failing_notebook_is_named_with_its_cell_and_error(tmp_path):
    with pytest.raises(NotebookFailed) as e:
        run(tmp_path,
            ("10_fine", ["x = 1"]),
            ("20_broken", ["y = 2", "raise ValueError('no such column: age')"]),
            ("30_never", ["z = 3"]))
    msg = str(e.value)
    # the cell as the file has it: the title, the parameters, y = 2, then this one (the kernel's
    # execution count, 9 here, runs on from the last notebook and counts the injected cells)
    assert "notebook 20_broken failed for t in cell 4 of 20_broken.py (raise ValueError('no such column: age'))" in msg
    assert "ValueError: no such column: age" in msg
    out = tmp_path / "out"
    assert (out / "10_fine.ipynb").exists()
    assert not (out / "20_broken.ipynb").exists() and not (out / "30_never.ipynb").exists()
    partial = out / ".20_broken.running.ipynb"
    assert str(partial) in msg and partial.exists(), "the partly executed notebook is kept to look at"
