"""Shared fixtures: the hand-checked tiny extract, small executed notebooks, a hand-made typed
extract, and built project copies."""

import base64
from datetime import date

import nbformat
import pandas as pd
import pytest
from notebook_runs import TINY

from pipeline.extract import Extract, ExtractConfig

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def make_executed_notebook(path, title, body_html="<table class='sp-table'><tr><td>42</td></tr></table>"):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("borough = 'merton'")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("borough = 'tiny'")
    injected.metadata["tags"] = ["injected-parameters"]
    code = nbformat.v4.new_code_cell("SECRET_CODE_MARKER = 1")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noisy warning\n"),
        nbformat.v4.new_output("display_data", data={"text/html": body_html}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nSome narrative."), params, injected, code,
                nbformat.v4.new_markdown_cell("## A subsection")]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def tiny():
    """tests/fixtures/tiny loaded (its README has the hand-computed facts); one copy per module."""
    from pipeline.load import load_extract

    return load_extract(TINY)


@pytest.fixture
def small_extract():
    cfg = ExtractConfig(slug="tiny", borough="Tiny", ons_code="E09000099", extract_start=date(2022, 4, 1),
                        extract_end=date(2024, 3, 31), registered_population=10000, synthetic=True)
    ref = pd.DataFrame({"referral_id": ["R00000001", "R00000002"], "patient_id": ["P0000001", "P0000002"]})
    return Extract(cfg, {"referrals": ref}, sha256="0" * 64)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """A project copy with the tiny, activity-only and London reports built by make (tests/sites.py)."""
    from sites import build_site

    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def all_built(tmp_path_factory):
    """A project copy with every synthetic area generated and built by `make -j2 reports` (slow
    tests only): (root, slugs)."""
    from sites import copy_project, make

    from pipeline.areas import AREAS

    root = tmp_path_factory.mktemp("all")
    copy_project(root)
    make(root, "data")
    make(root, "-j2", "reports")
    return root, sorted(AREAS)
