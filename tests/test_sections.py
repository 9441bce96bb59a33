"""The section registry: one declaration per section, read by everything that lists sections.

The end-to-end test adds a toy section the way docs/adding-an-analysis.md says (one module with its
declaration, one notebook) to a copy of the project, and shows it reaches the report, results.json
and `make validate` with no other edit.
"""

import json
import shutil

import pytest
from sites import copy_project, make

from pipeline import paths, sections
from pipeline.analyses import readmission

TOY_MODULE = '''"""Contacts by weekday: an example section (docs/adding-an-analysis.md)."""

import pandas as pd

from pipeline.sections import Headline, Section


def compute(inputs):
    contacts = inputs.extract["sp_contacts"]
    days = pd.to_datetime(contacts["contact_date"]).dt.day_name()
    return {"contacts": len(contacts), "by_weekday": {d: int(n) for d, n in days.value_counts().items()}}


def publish(raw, rel):
    total = rel.cell(raw["contacts"])
    days = rel.split(total, raw["by_weekday"])
    return {"contacts": rel.count(total), "by_weekday": rel.counts(days), "by_weekday_pct": rel.pcts(days, total)}


def headlines(pub):
    return [Headline("Contacts booked", f"{pub['contacts']:,}", "all weekdays")] if pub["contacts"] else []


SECTION = Section(
    name="contacts_by_weekday",
    title="Contacts by weekday",
    notebook="95_contacts_by_weekday",
    order=95,
    required=("sp_contacts",),
    needs="This section needs the `sp_contacts` table.",
    follows_period=True,
    compute=compute,
    publish=publish,
    headlines=headlines,
)
'''

TOY_NOTEBOOK = '''# %% [markdown]
# # Contacts by weekday
#
# *Logic model: activities.* Which days of the week link workers' contacts fall on.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None
fragments_dir = None
period = None

# %%
import pandas as pd

from pipeline import nb

sec = nb.section("contacts_by_weekday", borough, processed_dir, fragments_dir, period)

# %% [markdown]
# ## By weekday

# %%
if sec.ok:
    d = sec.data
    rows = [(day, d["by_weekday"][day], d["by_weekday_pct"][day]) for day in d["by_weekday"]]
    display(nb.table(pd.DataFrame(rows, columns=["Weekday", "Contacts", "% of contacts"], dtype=object)))
'''


def test_every_section_is_declared_once_with_a_notebook_and_its_tables():
    secs = sections.registry()
    assert len({s.name for s in secs}) == len(secs)
    notebooks = {p.stem for p in paths.NOTEBOOKS.glob("[0-9]*.py")}
    from pipeline.contract import TABLES

    for s in secs:
        assert s.notebook in notebooks, f"{s.name}: no notebooks/{s.notebook}.py"
        assert set(s.required) | set(s.optional) <= set(TABLES), s.name
    assert sections.get("readmission") is readmission.SECTION


def test_results_order_puts_the_contract_first_then_the_rest_by_name():
    declared = {"b": {"order": 10, "contract": False}, "x": {"order": 70, "contract": True},
                "a": {"order": 90, "contract": False}, "w": {"order": 20, "contract": True}}
    assert sections.results_order(declared) == ["w", "x", "a", "b"]


@pytest.fixture(scope="module")
def toy_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    copy_project(root)
    (root / "pipeline" / "analyses" / "contacts_by_weekday.py").write_text(TOY_MODULE)
    (root / "notebooks" / "95_contacts_by_weekday.py").write_text(TOY_NOTEBOOK)
    shutil.copytree(paths.ROOT / "tests" / "fixtures" / "tiny", root / "data_raw" / "tiny")
    return root


def test_a_registered_toy_section_reaches_the_report_results_and_validate(toy_site):
    make(toy_site, "report", "BOROUGH=tiny")
    results = json.loads((toy_site / "reports" / "tiny" / "results.json").read_text())
    toy = results["contacts_by_weekday"]
    assert toy["contacts"] == 30 and set(toy["by_weekday"]) <= {"Monday", "Tuesday", "Wednesday", "Thursday",
                                                                 "Friday", "Saturday", "Sunday"}
    assert list(results).index("contacts_by_weekday") > list(results).index("readmission")  # after the contract
    assert results["disclosure"]["figures"]["count"] > 0
    html = (toy_site / "reports" / "tiny" / "index.html").read_text()
    assert "Contacts by weekday" in html and "Contacts booked" in html  # its section and its headline
    out = make(toy_site, "validate", "BOROUGH=tiny").stdout
    assert "contacts by weekday" in out.split("Report sections these tables allow:")[1].splitlines()[0]


def test_a_toy_section_without_its_table_shows_one_note(toy_site):
    (toy_site / "pipeline" / "analyses" / "contacts_by_weekday.py").write_text(
        TOY_MODULE.replace('required=("sp_contacts",)', 'required=("sp_contacts", "deaths")'))
    (toy_site / "data_raw" / "tiny" / "deaths.csv").unlink()
    make(toy_site, "report", "BOROUGH=tiny")
    results = json.loads((toy_site / "reports" / "tiny" / "results.json").read_text())
    assert results["contacts_by_weekday"] == {"status": "not_run",
                                              "reason": "this extract has no `deaths` table"}
    html = (toy_site / "reports" / "tiny" / "index.html").read_text()
    assert "Contacts by weekday: not available." in html and "By weekday</h2>" not in html
    out = make(toy_site, "validate", "BOROUGH=tiny").stdout
    assert "contacts by weekday (deaths)" in out
