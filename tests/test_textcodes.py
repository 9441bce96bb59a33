"""Text columns as codes (pipeline.textcodes): the codes themselves, and a back-test that the
loader gives the same tables, the same problems and the same Parquet bytes with its codes as
without them (every check falling back to the row-by-row path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.coerce import all_stripped
from pipeline.errors import DataError
from pipeline.load import load_extract, write_processed
from pipeline.synthetic import generate
from pipeline.textcodes import Codes

FIXTURE = Path(__file__).parent / "fixtures" / "tiny"


def test_factorize_gather_and_missing():
    values = np.array(["b", None, "a", "b", np.nan, "a"], dtype=object)
    k = Codes.factorize(values)
    assert list(k.uniques) == ["b", "a"]
    assert list(k.codes) == [0, -1, 1, 0, -1, 1]
    assert k.missing_count == 2
    assert list(k.gather(np.array([10, 20]), -1)) == [10, -1, 20, 10, -1, 20]
    assert list(k.isin(["a"])) == [False, False, True, False, False, True]
    assert list(k.map(lambda u: u.str.upper(), None)) == ["B", None, "A", "B", None, "A"]


def test_codes_describe_only_their_own_array():
    values = np.array(["x", "y", "x"], dtype=object)
    k = Codes.factorize(values)
    s = pd.Series(values, copy=False)
    assert Codes.of(s, k) is k
    assert Codes.of(s.copy(), k) is None  # same values, another array: not trusted
    assert Codes.of(s.iloc[1:], k) is None  # a slice is another length
    assert Codes.of(s, None) is None
    assert Codes.of(s, k.take(np.array([True, False, True]))) is None  # describes no array yet


def test_from_dictionary_drops_unused_entries():
    dictionary = np.array(["unused", "a", "b"], dtype=object)
    indices = np.array([2, -1, 1, 2], dtype=np.int32)
    values = np.array(["b", None, "a", "b"], dtype=object)
    k = Codes.from_dictionary(indices, dictionary, values)
    assert list(k.uniques) == ["a", "b"]
    assert list(k.gather(k.uniques, None)) == list(values)


@pytest.mark.parametrize(
    ("words", "clean"),
    [([], True), (["a", "b c"], True), (["é", "ü"], True), (["a "], False), ([" a"], False),
     (["a", ""], False), (["x\x1c"], False), (["\u3000y"], False), (["c\u00a0"], False)],
)
def test_clean_agrees_with_str_strip(words, clean):
    arr = np.array(words, dtype=object)
    assert all_stripped(arr) is clean
    assert clean == all(w.strip() == w and w != "" for w in words)


def _dirty(d: Path) -> None:
    """Parquet tables with what the loader must catch or repair in text columns."""
    gp = pd.read_parquet(d / "gp_appointments.parquet")
    gp["patient_id"] = gp["patient_id"].astype(object)
    gp.loc[[3, 40], "patient_id"] = " " + gp.loc[[3, 40], "patient_id"] + "  "
    gp.loc[[5, 9], "patient_id"] = ["", None]
    gp.to_parquet(d / "gp_appointments.parquet", index=False)
    sp = pd.read_parquet(d / "sp_contacts.parquet")
    sp["referral_id"] = sp["referral_id"].astype(object)
    sp.loc[[0, 1], "referral_id"] = ["R-ORPHAN", "   "]
    sp.to_parquet(d / "sp_contacts.parquet", index=False)
    ref = pd.read_parquet(d / "referrals.parquet")
    for c in ref.columns:  # a categorical with an unused category: dictionary-encoded in the file
        if ref[c].dtype == object:
            ref[c] = pd.Categorical(ref[c], categories=[*pd.unique(ref[c].dropna()), "zz-unused"])
    ref.to_parquet(d / "referrals.parquet", index=False)


def _outcome(raw: Path, out: Path) -> tuple[str, dict[str, bytes]]:
    try:
        write_processed(load_extract(raw), out)
    except DataError as e:
        return str(e), {}
    return "", {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("variant", ["clean", "dirty"])
def test_codes_change_nothing(tmp_path, monkeypatch, variant):
    raw = tmp_path / "raw"
    generate("city-of-london", raw, force=True, fmt="parquet", n_referrals=400)
    if variant == "dirty":
        _dirty(raw)
    with_codes = _outcome(raw, tmp_path / "with")
    used = []
    real_of = Codes.of

    def spy(s, codes):
        found = real_of(s, codes)
        used.append(found is not None)
        return found

    monkeypatch.setattr(Codes, "of", staticmethod(spy))
    _outcome(raw, tmp_path / "spied")
    assert any(used)  # the codes were in play
    monkeypatch.setattr(Codes, "of", staticmethod(lambda s, codes: None))
    without = _outcome(raw, tmp_path / "without")
    assert with_codes == without
    assert bool(with_codes[0]) == (variant == "dirty")
    if variant == "dirty":
        assert "R-ORPHAN" in with_codes[0] and "is empty, but a value is required" in with_codes[0]


def test_csv_and_parquet_of_the_same_extract_agree(tmp_path):
    csv, pq = tmp_path / "csv", tmp_path / "pq"
    shutil.copytree(FIXTURE, csv)
    pq.mkdir()
    shutil.copy(FIXTURE / "extract.yml", pq)
    for f in FIXTURE.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        df.replace("", None).to_parquet(pq / f"{f.stem}.parquet", index=False)
    a, b = load_extract(csv), load_extract(pq)
    for name in a.tables:
        text = [c for c in a[name].columns if a[name][c].dtype == object]
        pd.testing.assert_frame_equal(a[name][text], b[name][text])
