"""Loading the tiny fixture, dtypes, processed round trip, manifest, atomic writes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import processed_tables
from pipeline.contract import TABLES
from pipeline.errors import DataError
from pipeline.load import (
    inputs_sha256,
    load_extract,
    read_processed,
    write_processed,
)

FIXTURE = Path(__file__).parent / "fixtures" / "tiny"

EXPECTED_DTYPE = {
    "string": "object",
    "category": "object",
    "date": "datetime64[ns]",
    "boolean": "boolean",
    "integer": "Int64",
    "number": "float64",
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    d = tmp_path / "tiny"
    shutil.copytree(FIXTURE, d)
    return d


@pytest.fixture(scope="module")
def extract():
    return load_extract(FIXTURE)


def test_loads_every_table(extract):
    assert list(extract.tables) == list(TABLES)
    sizes = {name: len(df) for name, df in extract.tables.items()}
    assert sizes == {
        "referrals": 12,
        "sp_contacts": 32,
        "outcome_measures": 21,
        "signposting": 4,
        "unmet_needs": 3,
        "gp_appointments": 12,
        "comparison_patients": 4,
        "clinical_measurements": 13,
        "hospital_spells": 4,
        "deaths": 1,
        "pcn_quarterly": 8,
        "survey_responses": 6,
        "practices": 7,
        "caseload_reviews": 10,
    }


def test_dtypes_follow_the_conventions(extract):
    for name, df in extract.tables.items():
        spec = TABLES[name]
        assert list(df.columns) == spec.column_names, name
        assert isinstance(df.index, pd.RangeIndex) and df.index.start == 0
        for col in spec.columns:
            assert str(df[col.name].dtype) == EXPECTED_DTYPE[col.type], (name, col.name)
            if col.type in ("string", "category"):
                vals = df[col.name]
                assert all(isinstance(v, str) for v in vals[vals.notna()]), (name, col.name)
                assert all(v is None for v in vals[vals.isna()]), (name, col.name)
            if col.type == "date":
                s = df[col.name].dropna()
                assert (s == s.dt.normalize()).all()


def test_values(extract):
    r = extract["referrals"].set_index("referral_id")
    assert r.loc["R001", "referral_date"] == pd.Timestamp("2022-04-11")
    assert pd.isna(r.loc["R003", "first_contact_date"])
    assert r.loc["R001", "age"] == 67
    assert r.loc["R012", "carer"] is np.True_ or bool(r.loc["R012", "carer"]) is True
    assert pd.isna(r.loc["R009", "diabetes"])
    assert r.loc["R008", "bed_days_saved"] == 2.5
    assert r.loc["R002", "closure_reason"] is None
    c = extract["sp_contacts"]
    assert c["status"].value_counts().to_dict() == {"attended": 23, "dna": 5, "cancelled": 4}
    assert pd.isna(c.loc[0, "duration_minutes"]) and c.loc[1, "duration_minutes"] == 60
    om = extract["outcome_measures"]
    assert om.loc[om["instrument"] == "swemwbs", "score"].tolist() == [42.5]


def test_fixture_readme_facts(extract):
    """The figures tests/fixtures/tiny/README.md promises."""
    r, c = extract["referrals"], extract["sp_contacts"]
    assert len(r) == 12 and r["patient_id"].nunique() == 11
    seen = c[c["status"] == "attended"].merge(r[["referral_id", "patient_id"]])["patient_id"].nunique()
    assert seen == 10
    days = (r["first_contact_date"] - r["referral_date"]).dt.days.dropna()
    assert sorted(days.astype(int)) == [0, 2, 4, 7, 7, 7, 7, 8, 14, 14, 14]
    assert days.median() == 7
    first_attended = c[c["status"] == "attended"].groupby("referral_id")["contact_date"].min()
    fc = r.set_index("referral_id")["first_contact_date"].dropna()
    assert (first_attended.loc[fc.index] == fc).all()


def test_config_and_hash(extract):
    cfg = extract.config
    assert cfg.slug == "tiny" and cfg.borough == "Tiny Test"
    overall, per_file = inputs_sha256(FIXTURE)
    assert extract.sha256 == overall and len(overall) == 64
    assert list(per_file) == sorted(per_file)
    assert "extract.yml" in per_file and "referrals.csv" in per_file and "README.md" not in per_file
    assert len(per_file) == 15  # extract.yml + 14 tables


def test_hash_changes_with_any_input(tiny):
    before, files_before = inputs_sha256(tiny)
    (tiny / "settings.yml").write_text("report:\n  title: x\n")
    after, files_after = inputs_sha256(tiny)
    assert "settings.yml" in files_after and after != before
    (tiny / "README.md").write_text("changed")
    assert inputs_sha256(tiny)[0] == after  # not an input


def test_round_trip(extract, tmp_path):
    out = tmp_path / "processed" / "tiny"
    write_processed(extract, out)
    back = read_processed(out)
    assert back.config == extract.config
    assert back.sha256 == extract.sha256
    assert list(back.tables) == list(extract.tables)
    for name in extract.tables:
        pd.testing.assert_frame_equal(back[name], extract[name], check_exact=True)
        for col in extract[name].columns:
            if extract[name][col].dtype == object:
                assert back[name][col].isna().equals(extract[name][col].isna())
                assert all(v is None for v in back[name][col][back[name][col].isna()])


def test_round_trip_keeps_empty_tables_and_uk_config(tiny, tmp_path):
    (tiny / "deaths.csv").write_text("patient_id,date_of_death\n")
    (tiny / "extract.yml").write_text((tiny / "extract.yml").read_text() + "source_system: EMIS\n")
    ex = load_extract(tiny)
    assert len(ex["deaths"]) == 0 and str(ex["deaths"]["date_of_death"].dtype) == "datetime64[ns]"
    out = tmp_path / "out"
    write_processed(ex, out)
    back = read_processed(out)
    pd.testing.assert_frame_equal(back["deaths"], ex["deaths"])
    assert back.config.extra == {"source_system": "EMIS"}


def test_manifest(extract, tmp_path):
    out = tmp_path / "p"
    write_processed(extract, out)
    m = json.loads((out / "manifest.json").read_text())
    assert m["contract_version"] == 1
    assert m["borough"] == "tiny"
    assert m["sha256"] == extract.sha256
    assert m["inputs"] == inputs_sha256(FIXTURE)[1]
    assert m["tables"]["referrals"] == 12 and m["tables"]["sp_contacts"] == 32
    assert list(m["tables"]) == list(TABLES)
    assert m["config"]["extract_start"] == "2022-04-01"
    assert m["config"]["referral_target_monthly"] == [5, 10]
    assert sorted(p.name for p in out.iterdir()) == sorted(["manifest.json"] + [f"{n}.parquet" for n in TABLES])


def test_write_is_deterministic(extract, tmp_path):
    write_processed(extract, tmp_path / "a")
    write_processed(extract, tmp_path / "b")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_overwrite_replaces_and_leaves_no_temp_folders(extract, tmp_path):
    out = tmp_path / "processed" / "tiny"
    out.mkdir(parents=True)
    (out / "stale.parquet").write_text("old")
    write_processed(extract, out)
    assert not (out / "stale.parquet").exists()
    assert [p.name for p in out.parent.iterdir()] == ["tiny"]


def test_failed_write_leaves_previous_folder_intact(extract, tmp_path, monkeypatch):
    out = tmp_path / "processed" / "tiny"
    write_processed(extract, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real = processed_tables.pq.write_table
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(processed_tables.pq, "write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        write_processed(extract, out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    assert [p.name for p in out.parent.iterdir()] == ["tiny"]  # temp folder cleaned up


def test_failed_swap_restores_previous_folder(extract, tmp_path, monkeypatch):
    out = tmp_path / "processed" / "tiny"
    write_processed(extract, out)
    before = sorted(p.name for p in out.iterdir())
    real = processed_tables.os.replace
    calls = {"n": 0}

    def failing(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:  # moving the new folder into place
            raise OSError("interrupted")
        return real(src, dst)

    monkeypatch.setattr(processed_tables.os, "replace", failing)
    with pytest.raises(OSError, match="interrupted"):
        write_processed(extract, out)
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in out.parent.iterdir()] == ["tiny"]


def test_read_processed_missing_manifest(tmp_path):
    with pytest.raises(DataError, match="manifest.json"):
        read_processed(tmp_path)


def _set_column(d: Path, file: str, column: str, value: str) -> None:
    df = pd.read_csv(d / file, dtype=str, keep_default_na=False)
    df[column] = value
    df.to_csv(d / file, index=False)


def test_many_errors_are_all_listed(tiny):
    _set_column(tiny, "referrals.csv", "gender", "Female")  # 12 rows
    _set_column(tiny, "sp_contacts.csv", "contact_date", "2022-02-30")  # 32 rows
    _set_column(tiny, "deaths.csv", "date_of_death", "yesterday")
    _set_column(tiny, "pcn_quarterly.csv", "splw_fte", "-0.5")
    with pytest.raises(DataError) as info:
        load_extract(tiny)
    err = info.value
    text = str(err)
    assert text.startswith("The extract has 4 problems:")
    files = [p.file for p in err.problems]
    assert files == ["referrals.csv", "sp_contacts.csv", "deaths.csv", "pcn_quarterly.csv"]
    gender = err.problems[0]
    assert gender.count == 12 and len(gender.rows) == 5
    assert "[rows 2 ('Female'), 3 ('Female'), 4 ('Female'), 5 ('Female'), 6 ('Female') and 7 more]" in text
    assert "and 27 more" in text
    assert "'yesterday'" in text


def test_blank_rows_are_skipped_and_keep_row_numbers(tiny):
    text = (tiny / "referrals.csv").read_text().splitlines()
    text.insert(3, ",,,,,,,,,,,,,,,,,,,,")  # blank row becomes row 4
    assert text[6].startswith("R005,")
    text[6] = text[6].replace(",female,", ",Female,")  # R005 moves to row 7
    (tiny / "referrals.csv").write_text("\n".join(text) + "\n\n")
    with pytest.raises(DataError) as info:
        load_extract(tiny)
    p = info.value.problems[0]
    assert p.column == "gender" and list(p.rows) == [7]


def test_whitespace_around_values_is_ignored(tiny):
    df = pd.read_csv(tiny / "sp_contacts.csv", dtype=str, keep_default_na=False)
    df["status"] = " " + df["status"] + " "
    df.to_csv(tiny / "sp_contacts.csv", index=False)
    ex = load_extract(tiny)
    assert set(ex["sp_contacts"]["status"]) == {"attended", "dna", "cancelled"}


def test_not_utf8(tiny):
    (tiny / "unmet_needs.csv").write_bytes(
        "referral_id,recorded_date,need\nR003,2022-06-15,caf\xe9\n".encode("latin-1")
    )
    with pytest.raises(DataError, match="unmet_needs.csv: is not UTF-8"):
        load_extract(tiny)


def test_medium_extract_loads_quickly(tmp_path):
    """10k referrals, 60k contacts, 200k GP appointments: vectorised checks keep this fast."""
    d = tmp_path / "medium"
    d.mkdir()
    shutil.copy(FIXTURE / "extract.yml", d)
    rng = np.random.default_rng(1)
    n = 10_000
    rd = pd.Timestamp("2022-04-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")
    ref = pd.DataFrame(
        {
            "referral_id": [f"R{i}" for i in range(n)],
            "patient_id": [f"P{i // 2}" for i in range(n)],
            "practice_code": "F84001",
            "pcn": "PCN North",
            "referral_date": rd.strftime("%Y-%m-%d"),
            "referral_source": "gp",
            "referral_reason": "housing",
            "first_contact_date": (rd + pd.Timedelta(days=7)).strftime("%Y-%m-%d"),
            "age": rng.integers(18, 90, n),
            "gender": "female",
            "ethnicity": "white",
        }
    )
    ref.to_csv(d / "referrals.csv", index=False)
    idx = rng.integers(0, n, 6 * n)
    pd.DataFrame(
        {
            "referral_id": ref["referral_id"].to_numpy()[idx],
            "contact_date": (rd[idx] + pd.Timedelta(days=10)).strftime("%Y-%m-%d"),
            "status": "attended",
            "duration_minutes": 30,
        }
    ).to_csv(d / "sp_contacts.csv", index=False)
    m = 200_000
    pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in rng.integers(0, n // 2, m)],
            "appointment_date": (pd.Timestamp("2021-04-01") + pd.to_timedelta(rng.integers(0, 1000, m), "D")).strftime(
                "%Y-%m-%d"
            ),
        }
    ).to_csv(d / "gp_appointments.csv", index=False)
    t = time.perf_counter()
    ex = load_extract(d)
    elapsed = time.perf_counter() - t
    assert len(ex["gp_appointments"]) == m
    assert elapsed < 15, elapsed
