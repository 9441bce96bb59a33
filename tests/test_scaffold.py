"""`make new-borough`: the scaffolded folder, its README generated from the contract, and what
validation says about it before and after it is filled in."""

import shutil

import pytest
import yaml
from notebook_runs import TINY

from pipeline import paths, scaffold
from pipeline.config import load_settings
from pipeline.contract import TABLES
from pipeline.validation import format_summary, summarise


@pytest.mark.parametrize("name, slug", [
    ("Kingston upon Thames", "kingston-upon-thames"),
    ("Norfolk & Waveney", "norfolk-and-waveney"),
    ("  Barking and Dagenham ", "barking-and-dagenham"),
    ("St. Helen's", "st-helens"),
    ("Hammersmith & Fulham (north)", "hammersmith-and-fulham-north"),
    ("Ynys Môn", "ynys-mon"),
])
def test_slugify(name, slug):
    assert scaffold.slugify(name) == slug
    assert paths.SLUG_RE.match(slug)


def test_new_borough_scaffolds_the_folder(tmp_path):
    dest = scaffold.new_borough("Kingston upon Thames", tmp_path)
    assert dest == tmp_path / "kingston-upon-thames"
    names = {p.name for p in dest.iterdir()}
    assert names == {"extract.yml", "settings.yml", "README.md", "referrals.csv", "sp_contacts.csv", "templates"}
    # a header-only template for every contract table, headers exactly the contract's columns
    assert {p.stem for p in (dest / "templates").iterdir()} == set(TABLES)
    for name, spec in TABLES.items():
        assert (dest / "templates" / f"{name}.csv").read_text() == ",".join(spec.column_names) + "\n"
    cfg = yaml.safe_load((dest / "extract.yml").read_text())
    assert cfg["borough"] == "Kingston upon Thames" and cfg["ons_code"] == "E09000021"  # a built-in area
    assert cfg["extract_start"] is None and cfg["registered_population"] is None
    # settings.yml: every default, commented out; as it stands it changes nothing and validates
    text = (dest / "settings.yml").read_text()
    assert "#   bed_day_tariff_gbp:" in text and "#   organisation:" in text
    assert yaml.safe_load(text) is None
    assert load_settings(dest) == load_settings()


def test_unknown_area_leaves_the_ons_code_to_fill_in(tmp_path):
    dest = scaffold.new_borough("Somewhere Else", tmp_path)
    assert yaml.safe_load((dest / "extract.yml").read_text())["ons_code"] is None


def test_never_overwrites_and_refuses_bad_names(tmp_path):
    scaffold.new_borough("Merton", tmp_path)
    (tmp_path / "merton" / "referrals.csv").write_text("precious")
    with pytest.raises(scaffold.ScaffoldError, match="already exists"):
        scaffold.new_borough("merton", tmp_path)
    assert (tmp_path / "merton" / "referrals.csv").read_text() == "precious"
    with pytest.raises(scaffold.ScaffoldError, match="give the borough"):
        scaffold.new_borough("   ", tmp_path)
    with pytest.raises(scaffold.ScaffoldError, match="reserved"):
        scaffold.new_borough("London", tmp_path)
    with pytest.raises(scaffold.ScaffoldError, match="no letters"):
        scaffold.new_borough("!!!", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merton"]  # no half-made folders


def test_every_table_has_export_guidance_and_every_column_a_meaning():
    """The README cannot drift from the contract: a new table or column needs guidance here."""
    g = scaffold.guidance()
    assert set(g["tables"]) == set(TABLES)
    for name, spec in TABLES.items():
        for system in scaffold.SYSTEMS:
            assert g["tables"][name].get(system), f"{name}: no {system} guidance"
        for col in spec.columns:
            meaning = scaffold.column_meaning(name, col, g["columns"])
            assert meaning and len(meaning) > 8, f"{name}.{col.name} has no meaning"


def test_readme_lists_every_table_and_column_with_allowed_values():
    text = scaffold.readme_text("Kingston upon Thames", "kingston-upon-thames")
    for name, spec in TABLES.items():
        assert f"### `{name}.csv` ({'required' if spec.required else 'optional'})" in text
        for col in spec.columns:
            assert f"| `{col.name}` |" in text
    for system in ("EMIS", "SystmOne", "Joy", "Elemental"):
        assert f"**{system}**" in text
    assert "`social_isolation`" in text and "`hba1c` (mmol/mol, 20..200)" in text
    assert "make validate BOROUGH=kingston-upon-thames" in text
    assert "$" not in text.replace("$$", "")  # every template field filled


def test_a_fresh_scaffold_validates_to_clear_messages(tmp_path):
    dest = scaffold.new_borough("Kingston upon Thames", tmp_path)
    s = summarise(dest)
    text = format_summary(s, "kingston-upon-thames")
    assert not s.ok
    assert "extract.yml, column 'extract_start': is missing: this key is required" in text
    assert "referrals.csv: has a header but no data rows" in text
    assert "sp_contacts.csv: has a header but no data rows" in text
    assert "header only, no rows" in text and "not provided" in text
    assert "Traceback" not in text


def test_a_filled_scaffold_with_only_referrals_and_contacts_is_valid(tmp_path):
    dest = scaffold.new_borough("Kingston upon Thames", tmp_path)
    text = (dest / "extract.yml").read_text()
    text = (text.replace("extract_start: ", "extract_start: 2022-04-01")
                .replace("extract_end: ", "extract_end: 2024-03-31")
                .replace("registered_population: ", "registered_population: 180000"))
    (dest / "extract.yml").write_text(text)
    for t in ("referrals", "sp_contacts"):
        shutil.copy(TINY / f"{t}.csv", dest / f"{t}.csv")
    s = summarise(dest)
    out = format_summary(s, "kingston-upon-thames")
    assert s.ok, out
    assert s.sections["activity"] == [] and s.sections["wellbeing"] == ["outcome_measures"]
    assert "Kingston upon Thames (kingston-upon-thames, E09000021): extract 2022-04-01 to 2024-03-31" in out
    assert "No problems found" in out
    assert "wellbeing (outcome_measures)" in out
