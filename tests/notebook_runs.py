"""One notebook of the report run on its own, as the section tests need it: the extract written
as a processed folder, the notebook executed by Papermill with the report's parameters."""

import json
import os
import sys
from pathlib import Path

from pipeline import paths

TINY = paths.ROOT / "tests" / "fixtures" / "tiny"


def run_notebook(name, extract, tmp_path, *, enabled=True, period=None, section=None):
    """Execute notebooks/<name>.py on ``extract``; (fragments folder, or ``section``'s fragment as
    a dict when it is named, and the executed notebook's markdown and HTML outputs as text).
    ``enabled=False`` switches disclosure control off."""
    import jupytext
    import nbformat
    import papermill as pm

    from pipeline.load import write_processed

    processed = write_processed(extract, tmp_path / "processed")
    if not enabled:
        (processed / "settings.yml").write_text("disclosure:\n  enabled: false\n")
    src = tmp_path / f"{name}.ipynb"
    nbformat.write(jupytext.read(paths.NOTEBOOKS / f"{name}.py"), src)
    frags = tmp_path / "fragments"
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old_path  # the kernel is this Python
    try:
        pm.execute_notebook(str(src), str(tmp_path / f"{name}.out.ipynb"), kernel_name="python3", progress_bar=False,
                            cwd=str(paths.ROOT), parameters={"borough": "tiny", "processed_dir": str(processed),
                                                            "fragments_dir": str(frags), "period": period})
    finally:
        os.environ["PATH"] = old_path
    nb = nbformat.read(tmp_path / f"{name}.out.ipynb", as_version=4)
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) + str(o.get("data", {}).get("text/html", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    if section is not None:
        return json.loads((Path(frags) / f"{section}.json").read_text()), text
    return frags, text
