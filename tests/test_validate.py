"""`make validate BOROUGH=x` (pipeline/validation.py): a readable summary of an extract and every
problem in it, as messages; nothing is built."""

import re
import shutil

import pytest
from notebook_runs import TINY

from pipeline import cli, paths
from pipeline.validation import format_summary, section_requirements, summarise


@pytest.fixture
def raw(tmp_path, monkeypatch):
    root = tmp_path / "data_raw"
    shutil.copytree(TINY, root / "tiny")
    monkeypatch.setattr(paths, "DATA_RAW", root)
    return root / "tiny"


def test_summary_of_a_valid_extract(raw):
    s = summarise(raw)
    assert s.ok
    by = {t.name: t for t in s.tables}
    assert by["referrals"].rows == 12 and by["sp_contacts"].rows == 32
    assert by["referrals"].first == "2022-04-11" and by["referrals"].last == "2024-02-01"
    assert 0 < by["referrals"].complete_pct < 100 and by["referrals"].least[0] == "health_budget_gbp"
    assert all(not missing for missing in s.sections.values())
    text = format_summary(s, "tiny")
    assert text.splitlines()[0].startswith("Tiny Test (tiny, E09000099): extract 2022-04-01 to 2024-03-31")
    assert "No problems found" in text and "make report BOROUGH=tiny" in text


def test_sections_come_from_the_analysis_modules():
    req = section_requirements()
    assert req["activity"] == ("referrals", "sp_contacts")
    assert "outcome_measures" in req["wellbeing"]


def test_problems_are_listed_with_file_column_row_and_value(raw):
    text = (raw / "referrals.csv").read_text().splitlines()
    header = text[0].split(",")
    row = text[2].split(",")
    row[header.index("age")] = "200"
    text[2] = ",".join(row)
    (raw / "referrals.csv").write_text("\n".join(text) + "\n")
    (raw / "outcome_measures.csv").unlink()
    (raw / "referral.csv").write_text("a,b\n")  # a misnamed file
    s = summarise(raw)
    out = format_summary(s, "tiny")
    assert not s.ok
    assert "referrals.csv, column 'age'" in out and "row 3" in out and "'200'" in out
    assert "Ignored (not contract tables; check the names): referral.csv" in out
    assert "wellbeing (outcome_measures)" in out
    assert "Nothing was built" in out


def test_uk_dates_and_a_bad_settings_file(raw):
    for f in ("referrals.csv", "sp_contacts.csv"):
        p = raw / f
        lines = p.read_text().splitlines()
        p.write_text("\n".join(re.sub(r"(\d{4})-(\d{2})-(\d{2})", r"\3/\2/\1", line) for line in lines) + "\n")
    (raw / "extract.yml").write_text((raw / "extract.yml").read_text() + 'date_format: "%d/%m/%Y"\n')
    (raw / "settings.yml").write_text("report:\n  titel: typo\n")
    s = summarise(raw)
    by = {t.name: t for t in s.tables}
    assert by["referrals"].first == "2022-04-11"
    out = format_summary(s, "tiny")
    assert "settings.yml, column 'report.titel'" in out


def test_cli_validate_exit_codes(raw, capsys):
    assert cli.main(["validate", "tiny"]) == 0
    assert "No problems found" in capsys.readouterr().out
    (raw / "sp_contacts.csv").unlink()
    assert cli.main(["validate", "tiny"]) == 2
    out = capsys.readouterr()
    assert "sp_contacts.csv: required table is missing" in out.out and "Traceback" not in out.err
    assert cli.main(["validate", "atlantis"]) == 2
    assert "Unknown borough 'atlantis'" in capsys.readouterr().err
    assert cli.main(["validate", "merton"]) == 2  # a built-in area not generated yet
    assert "data_raw/merton/ does not exist yet" in capsys.readouterr().err


def test_a_folder_without_extract_yml_is_a_message(raw, capsys):
    (raw / "extract.yml").unlink()
    assert cli.main(["validate", "tiny"]) == 2
    out = capsys.readouterr().out
    assert "extract.yml: is missing" in out and "referrals.csv" in out
