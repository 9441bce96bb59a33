"""The London comparison's published output, byte for byte, on the fixture boroughs of
tests/test_london.py: ``reports/london/index.html`` (pictures replaced by their figure's name)
and ``results.json``, with the build time and code version replaced by placeholders.

The expected copies in tests/fixtures/london/ were saved from the single-module comparison
before it became the package ``pipeline/london/``; refresh them only after an intended change
to the page or its figures, with
``SP_UPDATE_LONDON=1 .venv/bin/python -m pytest tests/test_london_output.py``."""

import base64
import json
import os
import re

from test_london import reports  # noqa: F401 - the fixture boroughs

from pipeline import london, paths

EXPECTED = paths.ROOT / "tests" / "fixtures" / "london"


def normalised(out):
    """(index.html, results.json) as text with the run's build time and code version replaced,
    and each embedded picture replaced by the name of the figure file it equals."""
    saved = json.loads((out / "results.json").read_text())
    stamps = {saved["provenance"]["build_time"]: "<build time>", saved["provenance"]["code_version"]: "<code version>"}
    figures = {base64.b64encode(f.read_bytes()).decode(): f.name for f in sorted((out / "figures").iterdir())}

    def picture(m):
        assert m.group(1) in figures, "an embedded picture is not one of figures/*.png"
        return f"data:image/png;base64,<figures/{figures[m.group(1)]}>"

    page = re.sub(r"data:image/png;base64,([A-Za-z0-9+/=]+)", picture, (out / "index.html").read_text())
    text = (out / "results.json").read_text()
    for stamp, placeholder in stamps.items():
        page, text = page.replace(stamp, placeholder), text.replace(stamp, placeholder)
    return page, text


def test_page_and_results_are_unchanged(reports):  # noqa: F811
    london.build(reports)
    page, text = normalised(reports / "london")
    if os.environ.get("SP_UPDATE_LONDON"):
        (EXPECTED / "index.html").write_text(page)
        (EXPECTED / "results.json").write_text(text)
    assert text == (EXPECTED / "results.json").read_text()
    assert page == (EXPECTED / "index.html").read_text()
