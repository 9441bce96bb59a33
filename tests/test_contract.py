"""Data contract v1: every bad-input case names the file, the column, the row and the value.

Each case copies ``tests/fixtures/tiny`` to a temporary folder and changes one thing. Row
numbers are spreadsheet rows: the header is row 1, the first data row (R001) is row 2.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from pipeline import checks, contract
from pipeline.checks.nhs import is_valid_nhs_number, nhs_number_mask
from pipeline.checks.schemas import schema
from pipeline.contract import (
    CATEGORIES,
    CLINICAL_MEASURE_RANGES,
    ONS4_ITEMS,
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    TABLES,
)
from pipeline.errors import ConfigError, DataError, Problem
from pipeline.load import load_extract, read_extract_config

FIXTURE = Path(__file__).parent / "fixtures" / "tiny"


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    d = tmp_path / "tiny"
    shutil.copytree(FIXTURE, d)
    return d


def read_csv_rows(d: Path, file: str) -> tuple[list[str], list[list[str]]]:
    with open(d / file, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv_rows(d: Path, file: str, header: list[str], rows: list[list[str]], bom: bool = False) -> None:
    with open(d / file, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def set_cell(d: Path, file: str, row: int, column: str, value: str) -> None:
    """Set the cell at spreadsheet ``row`` (header = 1) of ``column``."""
    header, rows = read_csv_rows(d, file)
    rows[row - 2][header.index(column)] = value
    write_csv_rows(d, file, header, rows)


def add_row(d: Path, file: str, values: dict[str, str]) -> None:
    header, rows = read_csv_rows(d, file)
    rows.append([values.get(c, "") for c in header])
    write_csv_rows(d, file, header, rows)


def drop_column(d: Path, file: str, column: str) -> None:
    header, rows = read_csv_rows(d, file)
    i = header.index(column)
    write_csv_rows(d, file, header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])


def set_yml(d: Path, key: str, value: str | None) -> None:
    lines = [ln for ln in (d / "extract.yml").read_text().splitlines() if not ln.startswith(f"{key}:")]
    if value is not None:
        lines.append(f"{key}: {value}")
    (d / "extract.yml").write_text("\n".join(lines) + "\n")


def load_error(d: Path) -> DataError:
    with pytest.raises(DataError) as info:
        load_extract(d)
    return info.value


def find_problem(
    err: DataError, file: str, column: str | None, row: int | None = None, value: str | None = None
) -> Problem:
    """The problem for file/column (and row), checked against the printed message too."""
    text = str(err)
    candidates = [p for p in err.problems if p.file == file and p.column == column and (row is None or row in p.rows)]
    assert candidates, f"no problem for {file} / {column} / row {row} in:\n{text}"
    p = candidates[0]
    line = str(p)
    assert line in text
    assert file in line
    if column:
        assert f"column '{column}'" in line
    if row is not None:
        assert re.search(rf"\[rows? ([^\]]*\D)?{row}\D", line), line
    if value is not None:
        assert repr(value) in line, line
    return p


# ---------------------------------------------------------------------------- the contract as data


def test_contract_tables_and_constants():
    assert list(TABLES) == [
        "referrals",
        "sp_contacts",
        "outcome_measures",
        "signposting",
        "unmet_needs",
        "gp_appointments",
        "comparison_patients",
        "clinical_measurements",
        "hospital_spells",
        "deaths",
        "pcn_quarterly",
        "survey_responses",
        "practices",
        "caseload_reviews",
    ]
    assert REQUIRED_TABLES == ["referrals", "sp_contacts"]
    assert set(OPTIONAL_TABLES) == set(TABLES) - set(REQUIRED_TABLES)
    assert CATEGORIES["referral_reason"][0] == "mental_health" and len(CATEGORIES["referral_reason"]) == 10
    assert CATEGORIES["gender"] == ["female", "male", "other", "not_stated"]
    assert ONS4_ITEMS == ["life_satisfaction", "worthwhile", "happiness", "anxiety"]
    assert CLINICAL_MEASURE_RANGES["hba1c"] == (20, 200)
    ref = TABLES["referrals"]
    assert ref.column("referral_id").unique and ref.column("referral_id").required
    assert not ref.column("first_contact_date").required
    assert ref.column("age").type == "integer" and (ref.column("age").min, ref.column("age").max) == (0, 120)
    assert TABLES["deaths"].column("patient_id").unique
    for name in TABLES:
        assert list(schema(name).columns) == TABLES[name].column_names
        assert list(contract.empty_table(name).columns) == TABLES[name].column_names


def test_the_contract_as_data_needs_no_pandera():
    """The specs (and what reads processed data or makes synthetic data from them) import without
    pandera; only the checks need it. In a fresh interpreter, so other tests' imports do not count."""
    code = (
        "import sys\n"
        "import pipeline.contract, pipeline.processed_tables, pipeline.synthetic\n"
        "assert 'pandera' not in sys.modules, 'pandera imported'\n"
        "import pipeline.checks\n"
        "assert 'pandera' in sys.modules\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------- NHS numbers


def make_nhs_number(stem: int) -> str:
    """A valid NHS number from a 9-digit stem (skipping stems whose check digit would be 10)."""
    while True:
        digits = [int(c) for c in f"{stem:09d}"]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)
        stem += 1


def test_is_valid_nhs_number():
    assert is_valid_nhs_number("9434765919")  # the NHS's published example
    assert is_valid_nhs_number("943 476 5919")
    assert is_valid_nhs_number(9434765919)
    assert is_valid_nhs_number("4010232137")
    assert not is_valid_nhs_number("9434765918")  # wrong check digit
    assert not is_valid_nhs_number("943476591")  # 9 digits
    assert not is_valid_nhs_number("94347659190")  # 11 digits
    assert not is_valid_nhs_number("P001")
    assert not is_valid_nhs_number(None)
    assert not is_valid_nhs_number("")
    # check digit 10 is never valid: 1000000010's stem 100000001 -> sum 10+2=12 -> 11-1=10
    assert not any(is_valid_nhs_number(f"100000001{d}") for d in range(10))
    # check digit 11 becomes 0
    stem = next(
        s
        for s in range(100000000, 100001000)
        if sum(int(c) * w for c, w in zip(f"{s:09d}", range(10, 1, -1), strict=True)) % 11 == 0
    )
    assert is_valid_nhs_number(f"{stem}0")
    generated = [make_nhs_number(123456780 + 7 * i) for i in range(50)]
    assert all(is_valid_nhs_number(n) for n in generated)
    mask = nhs_number_mask(pd.Series(generated + ["P001", None, "9434765918"]))
    assert mask.tolist() == [True] * 50 + [False, False, False]


def test_nhs_numbers_refused(tiny):
    header, rows = read_csv_rows(tiny, "referrals.csv")
    i = header.index("patient_id")
    nhs = {}
    for n, r in enumerate(rows):
        nhs.setdefault(r[i], make_nhs_number(412345670 + 13 * n))
        r[i] = nhs[r[i]]
    write_csv_rows(tiny, "referrals.csv", header, rows)
    err = load_error(tiny)
    p = find_problem(err, "referrals.csv", "patient_id", row=2)
    assert "NHS numbers" in str(p) and "pseudonymis" in str(p)
    assert p.count == 12
    text = str(err)
    assert not any(v in text for v in nhs.values()), "real NHS numbers must never be echoed"


def test_nhs_numbers_refused_in_any_table_with_spaces(tiny):
    header, rows = read_csv_rows(tiny, "gp_appointments.csv")
    for n, r in enumerate(rows):
        num = make_nhs_number(600000000 + 31 * n)
        r[0] = f"{num[:3]} {num[3:6]} {num[6:]}"
    write_csv_rows(tiny, "gp_appointments.csv", header, rows)
    err = load_error(tiny)
    find_problem(err, "gp_appointments.csv", "patient_id", row=2)


def test_a_few_mod11_pseudonyms_are_not_refused(tiny):
    # random 10-digit pseudonyms pass the check about 1 time in 11: well under 90%
    header, rows = read_csv_rows(tiny, "gp_appointments.csv")
    rows[0][0] = make_nhs_number(123456789)
    write_csv_rows(tiny, "gp_appointments.csv", header, rows)
    load_extract(tiny)


# ---------------------------------------------------------------------------- bad inputs

# (case id, mutation, file, column, row, value)
Mutation = Callable[[Path], None]
CASES: list[tuple[str, Mutation, str, str, int, str | None]] = [
    (
        "bad date",
        lambda d: set_cell(d, "referrals.csv", 4, "referral_date", "2022-13-01"),
        "referrals.csv",
        "referral_date",
        4,
        "2022-13-01",
    ),
    (
        "uk date in iso file",
        lambda d: set_cell(d, "referrals.csv", 3, "first_contact_date", "10/05/2022"),
        "referrals.csv",
        "first_contact_date",
        3,
        "10/05/2022",
    ),
    (
        "date before extract",
        lambda d: set_cell(d, "referrals.csv", 2, "referral_date", "2022-03-31"),
        "referrals.csv",
        "referral_date",
        2,
        "2022-03-31",
    ),
    (
        "date after extract",
        lambda d: set_cell(d, "referrals.csv", 13, "referral_date", "2024-04-01"),
        "referrals.csv",
        "referral_date",
        13,
        "2024-04-01",
    ),
    (
        "bad boolean",
        lambda d: set_cell(d, "referrals.csv", 3, "diabetes", "maybe"),
        "referrals.csv",
        "diabetes",
        3,
        "maybe",
    ),
    (
        "bad category wrong case",
        lambda d: set_cell(d, "referrals.csv", 4, "gender", "Female"),
        "referrals.csv",
        "gender",
        4,
        "Female",
    ),
    (
        "bad optional category",
        lambda d: set_cell(d, "referrals.csv", 5, "risk_band", "moderate"),
        "referrals.csv",
        "risk_band",
        5,
        "moderate",
    ),
    ("age out of range", lambda d: set_cell(d, "referrals.csv", 5, "age", "121"), "referrals.csv", "age", 5, "121"),
    (
        "negative age",
        lambda d: set_cell(d, "comparison_patients.csv", 3, "age", "-1"),
        "comparison_patients.csv",
        "age",
        3,
        "-1",
    ),
    ("non-integer age", lambda d: set_cell(d, "referrals.csv", 6, "age", "34.5"), "referrals.csv", "age", 6, "34.5"),
    ("text age", lambda d: set_cell(d, "referrals.csv", 6, "age", "forty"), "referrals.csv", "age", 6, "forty"),
    (
        "empty required value",
        lambda d: set_cell(d, "referrals.csv", 7, "patient_id", ""),
        "referrals.csv",
        "patient_id",
        7,
        None,
    ),
    (
        "duplicate referral_id",
        lambda d: set_cell(d, "referrals.csv", 4, "referral_id", "R002"),
        "referrals.csv",
        "referral_id",
        4,
        "R002",
    ),
    (
        "orphan contact",
        lambda d: set_cell(d, "sp_contacts.csv", 10, "referral_id", "R999"),
        "sp_contacts.csv",
        "referral_id",
        10,
        "R999",
    ),
    (
        "orphan outcome",
        lambda d: set_cell(d, "outcome_measures.csv", 22, "referral_id", "R077"),
        "outcome_measures.csv",
        "referral_id",
        22,
        "R077",
    ),
    (
        "orphan signpost",
        lambda d: set_cell(d, "signposting.csv", 2, "referral_id", "X1"),
        "signposting.csv",
        "referral_id",
        2,
        "X1",
    ),
    (
        "contact before referral",
        lambda d: set_cell(d, "sp_contacts.csv", 3, "contact_date", "2022-04-01"),
        "sp_contacts.csv",
        "contact_date",
        3,
        "2022-04-01",
    ),
    (
        "first contact before referral",
        lambda d: set_cell(d, "referrals.csv", 3, "first_contact_date", "2022-05-01"),
        "referrals.csv",
        "first_contact_date",
        3,
        "2022-05-01",
    ),
    (
        "closure before referral",
        lambda d: set_cell(d, "referrals.csv", 5, "closure_date", "2022-06-30"),
        "referrals.csv",
        "closure_date",
        5,
        "2022-06-30",
    ),
    (
        "closure before first contact",
        lambda d: set_cell(d, "referrals.csv", 2, "closure_date", "2022-04-15"),
        "referrals.csv",
        "closure_date",
        2,
        "2022-04-15",
    ),
    (
        "closure without reason",
        lambda d: set_cell(d, "referrals.csv", 5, "closure_reason", ""),
        "referrals.csv",
        "closure_reason",
        5,
        None,
    ),
    (
        "practice_code pattern",
        lambda d: set_cell(d, "referrals.csv", 6, "practice_code", "f84003"),
        "referrals.csv",
        "practice_code",
        6,
        "f84003",
    ),
    (
        "imd out of range",
        lambda d: set_cell(d, "referrals.csv", 7, "imd_decile", "11"),
        "referrals.csv",
        "imd_decile",
        7,
        "11",
    ),
    (
        "negative bed days",
        lambda d: set_cell(d, "referrals.csv", 9, "bed_days_saved", "-2"),
        "referrals.csv",
        "bed_days_saved",
        9,
        "-2",
    ),
    (
        "number with pound sign",
        lambda d: set_cell(d, "referrals.csv", 6, "health_budget_gbp", "£250"),
        "referrals.csv",
        "health_budget_gbp",
        6,
        "£250",
    ),
    (
        "duration out of range",
        lambda d: set_cell(d, "sp_contacts.csv", 4, "duration_minutes", "500"),
        "sp_contacts.csv",
        "duration_minutes",
        4,
        "500",
    ),
    (
        "contact status",
        lambda d: set_cell(d, "sp_contacts.csv", 4, "status", "DNA"),
        "sp_contacts.csv",
        "status",
        4,
        "DNA",
    ),
    (
        "clinical measure out of range",
        lambda d: set_cell(d, "clinical_measurements.csv", 2, "value", "250"),
        "clinical_measurements.csv",
        "value",
        2,
        "250",
    ),
    (
        "smoking status not 0/1",
        lambda d: set_cell(d, "clinical_measurements.csv", 10, "value", "0.5"),
        "clinical_measurements.csv",
        "value",
        10,
        "0.5",
    ),
    (
        "unknown measure",
        lambda d: set_cell(d, "clinical_measurements.csv", 5, "measure", "ldl"),
        "clinical_measurements.csv",
        "measure",
        5,
        "ldl",
    ),
    (
        "ons4 score 11",
        lambda d: set_cell(d, "outcome_measures.csv", 2, "score", "11"),
        "outcome_measures.csv",
        "score",
        2,
        "11",
    ),
    (
        "ons4 score non-integer",
        lambda d: set_cell(d, "outcome_measures.csv", 3, "score", "5.5"),
        "outcome_measures.csv",
        "score",
        3,
        "5.5",
    ),
    (
        "ons4 unknown item",
        lambda d: set_cell(d, "outcome_measures.csv", 4, "item", "calm"),
        "outcome_measures.csv",
        "item",
        4,
        "calm",
    ),
    (
        "discharge before admission",
        lambda d: set_cell(d, "hospital_spells.csv", 3, "discharge_date", "2022-10-10"),
        "hospital_spells.csv",
        "discharge_date",
        3,
        "2022-10-10",
    ),
    (
        "bad sp_index",
        lambda d: set_cell(d, "hospital_spells.csv", 2, "sp_index", "Y"),
        "hospital_spells.csv",
        "sp_index",
        2,
        "Y",
    ),
    (
        "duplicate death",
        lambda d: add_row(d, "deaths.csv", {"patient_id": "P010", "date_of_death": "2024-03-11"}),
        "deaths.csv",
        "patient_id",
        3,
        "P010",
    ),
    (
        "quarter_start not a quarter start",
        lambda d: set_cell(d, "pcn_quarterly.csv", 3, "quarter_start", "2022-08-01"),
        "pcn_quarterly.csv",
        "quarter_start",
        3,
        "2022-08-01",
    ),
    (
        "quarter_start not first day",
        lambda d: set_cell(d, "pcn_quarterly.csv", 4, "quarter_start", "2022-10-02"),
        "pcn_quarterly.csv",
        "quarter_start",
        4,
        "2022-10-02",
    ),
    (
        "negative splw_fte",
        lambda d: set_cell(d, "pcn_quarterly.csv", 4, "splw_fte", "-1"),
        "pcn_quarterly.csv",
        "splw_fte",
        4,
        "-1",
    ),
    (
        "gp appointment bad date",
        lambda d: set_cell(d, "gp_appointments.csv", 8, "appointment_date", "2022-08-1x"),
        "gp_appointments.csv",
        "appointment_date",
        8,
        "2022-08-1x",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_named(tiny, case):
    _, mutate, file, column, row, value = case
    mutate(tiny)
    err = load_error(tiny)
    find_problem(err, file, column, row, value)


def test_duplicate_referral_id_names_both_rows(tiny):
    set_cell(tiny, "referrals.csv", 4, "referral_id", "R002")
    p = find_problem(load_error(tiny), "referrals.csv", "referral_id", 3, "R002")
    assert list(p.rows) == [3, 4] and "unique" in p.message


def test_missing_required_table(tiny):
    (tiny / "referrals.csv").unlink()
    err = load_error(tiny)
    p = find_problem(err, "referrals.csv", None)
    assert "required table is missing" in p.message


def test_missing_required_table_sp_contacts(tiny):
    (tiny / "sp_contacts.csv").unlink()
    p = find_problem(load_error(tiny), "sp_contacts.csv", None)
    assert "missing" in p.message


def test_missing_optional_table_is_fine(tiny):
    (tiny / "deaths.csv").unlink()
    (tiny / "pcn_quarterly.csv").unlink()
    ex = load_extract(tiny)
    assert not ex.has("deaths") and ex.has("referrals", "sp_contacts")


def test_missing_required_column(tiny):
    drop_column(tiny, "referrals.csv", "referral_reason")
    p = find_problem(load_error(tiny), "referrals.csv", "referral_reason")
    assert "required column is missing" in p.message


def test_missing_column_with_wrong_case_gets_a_hint(tiny):
    header, rows = read_csv_rows(tiny, "sp_contacts.csv")
    header[header.index("status")] = "Status"
    write_csv_rows(tiny, "sp_contacts.csv", header, rows)
    p = find_problem(load_error(tiny), "sp_contacts.csv", "status")
    assert "'Status'" in p.message


def test_missing_optional_column_is_fine(tiny):
    drop_column(tiny, "referrals.csv", "carer")
    drop_column(tiny, "sp_contacts.csv", "duration_minutes")
    ex = load_extract(tiny)
    assert ex["referrals"]["carer"].isna().all() and str(ex["referrals"]["carer"].dtype) == "boolean"
    assert str(ex["sp_contacts"]["duration_minutes"].dtype) == "Int64"


def _to_uk(d: Path) -> None:
    for f in sorted(d.glob("*.csv")):
        header, rows = read_csv_rows(d, f.name)
        spec = TABLES[f.stem]
        for r in rows:
            for i, c in enumerate(header):
                if c in spec and spec.column(c).type == "date" and r[i]:
                    y, m, dd = r[i].split("-")
                    r[i] = f"{dd}/{m}/{y}"
        write_csv_rows(d, f.name, header, rows)


def test_uk_date_format_accepted(tiny, tmp_path):
    iso = load_extract(tiny)
    uk = tmp_path / "uk"
    shutil.copytree(tiny, uk)
    _to_uk(uk)
    set_yml(uk, "date_format", '"%d/%m/%Y"')
    assert "19/04/2022" in (uk / "referrals.csv").read_text()
    ex = load_extract(uk)
    assert ex.config.date_format == "%d/%m/%Y"
    for name in iso.tables:
        pd.testing.assert_frame_equal(ex[name], iso[name])


def test_iso_dates_rejected_under_uk_format(tiny):
    set_yml(tiny, "date_format", '"%d/%m/%Y"')
    err = load_error(tiny)
    p = find_problem(err, "referrals.csv", "referral_date", 2, "2022-04-11")
    assert "DD/MM/YYYY" in p.message
    assert p.count == 12


def test_bom_accepted(tiny):
    header, rows = read_csv_rows(tiny, "referrals.csv")
    write_csv_rows(tiny, "referrals.csv", header, rows, bom=True)
    assert (tiny / "referrals.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    ex = load_extract(tiny)
    assert ex["referrals"].columns[0] == "referral_id"
    assert ex["referrals"]["referral_id"].iloc[0] == "R001"


def test_booleans_any_case(tiny):
    for row, v in [(2, "TRUE"), (3, "No"), (4, "1"), (5, "0"), (6, "yes"), (7, "False")]:
        set_cell(tiny, "referrals.csv", row, "carer", v)
    ex = load_extract(tiny)
    assert ex["referrals"]["carer"].iloc[:6].tolist() == [True, False, True, False, True, False]


def test_both_csv_and_parquet_present(tiny):
    pd.read_csv(tiny / "deaths.csv", dtype=str).to_parquet(tiny / "deaths.parquet", index=False)
    p = find_problem(load_error(tiny), "deaths.csv", None)
    assert "deaths.parquet" in p.message and "only one" in p.message


def test_both_present_for_required_table_is_not_also_missing(tiny):
    pd.read_csv(tiny / "referrals.csv", dtype=str).to_parquet(tiny / "referrals.parquet", index=False)
    err = load_error(tiny)
    assert any("only one" in p.message for p in err.problems)
    assert not any("required table is missing" in p.message for p in err.problems)


def test_parquet_input_accepted(tiny):
    csv_ex = load_extract(tiny)
    # typed parquet (as written by pandas from the loaded data) and all-text parquet
    csv_ex["referrals"].to_parquet(tiny / "referrals.parquet", index=False)
    (tiny / "referrals.csv").unlink()
    pd.read_csv(tiny / "sp_contacts.csv", dtype=str, keep_default_na=False).to_parquet(
        tiny / "sp_contacts.parquet", index=False
    )
    (tiny / "sp_contacts.csv").unlink()
    ex = load_extract(tiny)
    for name in csv_ex.tables:
        pd.testing.assert_frame_equal(ex[name], csv_ex[name])


def test_parquet_errors_use_the_same_row_numbers(tiny):
    df = pd.read_csv(tiny / "referrals.csv", dtype=str, keep_default_na=False)
    df.loc[2, "gender"] = "Female"  # third record -> row 4
    df.to_parquet(tiny / "referrals.parquet", index=False)
    (tiny / "referrals.csv").unlink()
    find_problem(load_error(tiny), "referrals.parquet", "gender", 4, "Female")


def test_extra_columns_and_files_ignored(tiny):
    header, rows = read_csv_rows(tiny, "referrals.csv")
    write_csv_rows(tiny, "referrals.csv", ["notes"] + header, [["free text"] + r for r in rows])
    (tiny / "foo.csv").write_text("a,b\n1,2\n")
    (tiny / "settings.yml").write_text("report:\n  title: x\n")
    ex = load_extract(tiny)
    assert "notes" not in ex["referrals"].columns
    assert "foo" not in ex.tables


# ---------------------------------------------------------------------------- extract.yml


def config_error(d: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        read_extract_config(d)
    with pytest.raises(ConfigError):
        load_extract(d)
    return info.value


def test_config_valid(tiny):
    cfg = read_extract_config(tiny)
    assert cfg.slug == "tiny" and cfg.borough == "Tiny Test" and cfg.ons_code == "E09000099"
    assert str(cfg.extract_start) == "2022-04-01" and str(cfg.extract_end) == "2024-03-31"
    assert cfg.registered_population == 10000
    assert cfg.referral_target_monthly == (5, 10)
    assert cfg.readmission_benchmark_30d_pct == 12.6
    assert cfg.synthetic is False and cfg.date_format is None and cfg.extra == {}


def test_config_unknown_keys_kept_in_extra(tiny):
    set_yml(tiny, "source_system", "EMIS")
    assert read_extract_config(tiny).extra == {"source_system": "EMIS"}


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("registered_population", None, "missing"),
        ("borough", None, "missing"),
        ("extract_end", "2022-03-31", "before extract_start"),
        ("extract_start", "2022-02-30", "YYYY-MM-DD"),
        ("extract_end", "31/03/2024", "YYYY-MM-DD"),
        ("ons_code", "Merton", "ONS area code"),
        ("registered_population", "-5", "positive"),
        ("referral_target_monthly", "[10, 5]", "lower"),
        ("referral_target_monthly", "120", "two whole numbers"),
        ("readmission_benchmark_30d_pct", "120", "between 0 and 100"),
        ("date_format", '"%d/%m"', "date format"),
        ("synthetic", "maybe", "true or false"),
    ],
)
def test_config_errors(tiny, key, value, message):
    set_yml(tiny, key, value)
    err = config_error(tiny)
    p = find_problem(err, "extract.yml", key)
    assert message in p.message
    if value is not None and key != "date_format":
        assert value.strip('"') in str(p) or key == "extract_end" and value == "2022-03-31"


def test_config_missing_file(tiny):
    (tiny / "extract.yml").unlink()
    p = find_problem(config_error(tiny), "extract.yml", None)
    assert "missing" in p.message


def test_config_lists_every_problem(tiny):
    set_yml(tiny, "borough", None)
    set_yml(tiny, "ons_code", "X1")
    set_yml(tiny, "extract_start", "2022-13-01")
    assert len(config_error(tiny).problems) == 3


def test_config_bad_slug(tmp_path):
    d = tmp_path / "Tiny_Test"
    shutil.copytree(FIXTURE, d)
    p = find_problem(config_error(d), "extract.yml", "folder name")
    assert "slug" in p.message


# ---------------------------------------------------------------------------- in-memory validation


def test_validate_extract_in_memory(tiny):
    ex = load_extract(tiny)
    checks.validate_extract(ex)  # a valid extract passes
    ex.tables["referrals"].loc[3, "gender"] = "Female"
    ex.tables["sp_contacts"]["status"] = ex["sp_contacts"]["status"].astype("category")
    with pytest.raises(DataError) as info:
        checks.validate_extract(ex)
    text = str(info.value)
    find_problem(info.value, "referrals.csv", "gender", 5, "Female")
    assert "sp_contacts.csv" in text and "wrong data type" in text


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_missing_referral_id_is_not_matched_to_a_missing_one(tiny, fmt):
    # a contact and a referral that both lack a referral_id are not the same referral: the contact
    # is reported as empty, not as dated before that referral (missing never matches missing)
    set_cell(tiny, "referrals.csv", 3, "referral_id", "")
    set_cell(tiny, "sp_contacts.csv", 2, "referral_id", "")
    if fmt == "parquet":
        for name in ("referrals", "sp_contacts"):
            pd.read_csv(tiny / f"{name}.csv", dtype=str).to_parquet(tiny / f"{name}.parquet", index=False)
            (tiny / f"{name}.csv").unlink()
    err = load_error(tiny)
    find_problem(err, f"sp_contacts.{fmt}", "referral_id", 2, None)
    assert not [p for p in err.problems if "before the referral's referral_date" in p.message]


def test_missing_referral_id_is_not_matched_in_memory(tiny):
    # the same without text codes (an extract checked in memory)
    ex = load_extract(tiny)
    ex.tables["referrals"].loc[1, "referral_id"] = None
    ex.tables["sp_contacts"].loc[0, "referral_id"] = None
    with pytest.raises(DataError) as info:
        checks.validate_extract(ex)
    find_problem(info.value, "sp_contacts.csv", "referral_id", 2, None)
    assert not [p for p in info.value.problems if "before the referral's referral_date" in p.message]


@pytest.mark.parametrize("layout", ["index", "categorical", "large_string_row_groups", "padded"])
def test_parquet_layouts_load_like_the_csv(tiny, layout):
    # the reader takes text columns one at a time, by name; whatever the file's layout, the extract
    # (and the text codes the checks use) is the CSV's
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_ex = load_extract(tiny)
    for name in ("referrals", "sp_contacts", "gp_appointments"):
        df = pd.read_csv(tiny / f"{name}.csv", dtype=str)
        path = tiny / f"{name}.parquet"
        if layout == "index":
            df.index = pd.Index([f"r{i}" for i in range(len(df))], name="row")
            df.to_parquet(path, index=True)
        elif layout == "categorical":
            df.astype({c: "category" for c in df.columns[1::2]}).to_parquet(path, index=False)
        elif layout == "large_string_row_groups":
            t = pa.Table.from_pandas(df, preserve_index=False)
            t = t.cast(pa.schema([pa.field(f.name, pa.large_string()) for f in t.schema]))
            pq.write_table(t, path, row_group_size=3)
        else:
            df.map(lambda v: v if pd.isna(v) else f"  {v} ").to_parquet(path, index=False)
        (tiny / f"{name}.csv").unlink()
    ex = load_extract(tiny)
    for name in csv_ex.tables:
        pd.testing.assert_frame_equal(ex[name], csv_ex[name])
