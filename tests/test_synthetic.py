"""The synthetic generator: deterministic, contract-conforming, shaped like the seeds, and never
overwriting real data."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline import synthetic as S
from pipeline.areas import AREAS, LONDON
from pipeline.contract import TABLES
from pipeline.load import load_extract
from pipeline.synthetic import build
from pipeline.synthetic.draws import inverse_cdf
from pipeline.synthetic.planted import DEATH_CDF, READMIT_CDF
from pipeline.synthetic.surveys import SURVEY_AREAS

#: sha256 of every file of three small extracts (``sha256sum`` format, folder/file): the random
#: streams' outputs, which no change of the generator's code may move (tables added later draw
#: from their own streams)
PINNED = Path(__file__).parent / "fixtures" / "synthetic-sha256.txt"
PINNED_BUILDS = {"city-of-london": ("city-of-london", None), "norfolk-and-waveney": ("norfolk-and-waveney", None),
                 "merton-n30": ("merton", 30)}


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def merton(tmp_path_factory):
    return load_extract(S.generate("merton", tmp_path_factory.mktemp("m") / "merton"))


@pytest.fixture(scope="module")
def norfolk(tmp_path_factory):
    return load_extract(S.generate("norfolk-and-waveney", tmp_path_factory.mktemp("n") / "norfolk-and-waveney"))


def test_areas_are_the_33_london_boroughs_and_norfolk():
    assert len(LONDON) == 33 and len(AREAS) == 34
    codes = sorted(AREAS[s].ons_code for s in LONDON)
    assert codes == [f"E09{i:06d}" for i in range(1, 34)]
    assert AREAS["merton"].ons_code == "E09000024" and len(AREAS["merton"].pcns) == 6
    assert AREAS["norfolk-and-waveney"].kind == "hospital"
    sizes = [a.n_referrals for a in AREAS.values()]
    assert min(sizes) < 500 and max(sizes) <= 10_000


def test_same_slug_gives_byte_identical_files(tmp_path):
    a = S.generate("city-of-london", tmp_path / "a" / "city-of-london")
    b = S.generate("city-of-london", tmp_path / "b" / "city-of-london")
    assert _digest(a) == _digest(b)
    c = S.generate("camden", tmp_path / "c" / "camden", n_referrals=300)
    assert _digest(c)["referrals.csv"] != _digest(a)["referrals.csv"]


def test_files_are_the_pinned_bytes(tmp_path):
    """The generator's output is pinned: a refactoring or a new table must leave every existing
    file byte for byte as it was."""
    expected = {}
    for line in PINNED.read_text().splitlines():
        digest, name = line.split("  ", 1)
        expected[name] = digest
    got = {}
    for name, (slug, n) in PINNED_BUILDS.items():
        out = S.generate(slug, tmp_path / name, n_referrals=n)
        got.update({f"{name}/{f}": d for f, d in _digest(out).items()})
    assert got == expected


def _with_tables(monkeypatch, tables: dict) -> dict[str, pd.DataFrame]:
    monkeypatch.setattr(build, "OWN_STREAM_TABLES", tables)
    return S.build_tables("city-of-london")[0]


def test_a_new_table_on_its_own_stream_changes_no_other_table(monkeypatch):
    """The pattern for a new table (pipeline/synthetic/build.py): drawing from ``w.stream(name)``,
    its values depend on no other table, and adding it changes none."""

    def scores(rng, w):
        return pd.DataFrame({"referral_id": w.ref["referral_id"].to_numpy(), "score": rng.integers(0, 11, len(w.ref))})

    def own(name):
        return lambda w: scores(w.stream(name), w)

    def shared(w):
        return scores(w.rng, w)

    before = _with_tables(monkeypatch, {})
    after = _with_tables(monkeypatch, {"instruments": own("instruments"), "absent": lambda w: None,
                                       "surveys": own("surveys")})
    assert list(after) == [*before, "instruments", "surveys"]
    for name, df in before.items():
        pd.testing.assert_frame_equal(after[name], df)
    alone = _with_tables(monkeypatch, {"surveys": own("surveys")})
    pd.testing.assert_frame_equal(alone["surveys"], after["surveys"])  # whatever else is added
    assert not alone["surveys"]["score"].equals(after["instruments"]["score"])  # a stream per table
    # what its own stream spares it: a table drawing from the shared stream moves with every
    # table drawn before it
    a = _with_tables(monkeypatch, {"surveys": shared})
    b = _with_tables(monkeypatch, {"instruments": shared, "surveys": shared})
    assert not a["surveys"]["score"].equals(b["surveys"]["score"])


@pytest.mark.parametrize("slug", ["city-of-london", "bexley", "harrow"])
def test_every_table_the_area_has_conforms_to_the_contract(slug, tmp_path):
    ex = load_extract(S.generate(slug, tmp_path / slug, n_referrals=400))  # raises DataError if not
    expected = set(TABLES) - set(AREAS[slug].omit) - ({"survey_responses"} if slug not in SURVEY_AREAS else set())
    assert set(ex.tables) == expected
    assert ex.config.synthetic is True and ex.config.ons_code == AREAS[slug].ons_code


def test_full_london_extract_has_every_contract_table(merton):
    assert set(merton.tables) == set(TABLES)


def test_never_overwrites_real_data(tmp_path):
    real = tmp_path / "merton"
    real.mkdir()
    (real / "extract.yml").write_text("borough: Merton\nsynthetic: false\n")
    (real / "referrals.csv").write_text("precious\n")
    with pytest.raises(S.RefusedError, match="not marked 'synthetic: true'"):
        S.generate("merton", real, force=True)
    assert (real / "referrals.csv").read_text() == "precious\n"
    other = tmp_path / "camden"
    other.mkdir()
    (other / "notes.txt").write_text("work in progress")
    with pytest.raises(S.RefusedError):
        S.generate("camden", other)


def test_existing_synthetic_folder_is_kept_unless_forced(tmp_path):
    out = S.generate("city-of-london", tmp_path / "col")
    (out / "referrals.csv").write_text("edited")
    assert S.generate("city-of-london", out) == out
    assert (out / "referrals.csv").read_text() == "edited"
    S.generate("city-of-london", out, force=True)
    assert (out / "referrals.csv").read_text().startswith("referral_id,")
    assert not list(tmp_path.glob(".col*")), "no temporary folders left behind"


def test_unknown_area_is_refused(tmp_path):
    with pytest.raises(KeyError, match="no built-in synthetic area"):
        S.generate("atlantis", tmp_path / "atlantis")


def test_extract_yml_is_marked_synthetic_with_a_plausible_target_band(tmp_path):
    out = S.generate("city-of-london", tmp_path / "col")
    cfg = yaml.safe_load((out / "extract.yml").read_text())
    assert cfg["synthetic"] is True and cfg["ons_code"] == "E09000001"
    lo, hi = cfg["referral_target_monthly"]
    per_month = (len(pd.read_csv(out / "referrals.csv"))) / 36
    assert lo < per_month < hi


# ------------------------------------------------------------------ shapes from the seeds
def test_merton_looks_like_the_published_merton_figures(merton):
    r, c = merton.tables["referrals"], merton.tables["sp_contacts"]
    assert 8_000 <= len(r) <= 10_000
    assert r["gender"].eq("female").mean() == pytest.approx(0.66, abs=0.02)
    bands = pd.cut(r["age"], [-1, 44, 54, 64, 200]).value_counts(normalize=True, sort=False).to_numpy()
    assert bands[1] == pytest.approx(0.17, abs=0.02)  # 45-54 the largest ten-year band
    top = r["referral_reason"].value_counts().index[:5].tolist()
    assert top == ["mental_health", "social_isolation", "financial", "housing", "carer_support"]
    dna = c["status"].isin(["dna", "cancelled"]).mean()
    assert dna == pytest.approx(0.17, abs=0.02)
    att = c[c["status"].eq("attended")]
    seen = r.loc[r["referral_id"].isin(att["referral_id"]), "patient_id"].nunique()
    assert len(att) / seen == pytest.approx(3.2, abs=0.25)
    assert set(r["pcn"]) == set(AREAS["merton"].pcns)


def test_norfolk_looks_like_the_published_hospital_service(norfolk):
    r = norfolk.tables["referrals"]
    assert r["age"].mean() == pytest.approx(72, abs=3)
    assert r["service_outcome"].eq("discharge_expedited").mean() == pytest.approx(0.74, abs=0.06)
    bd = r["bed_days_saved"]
    assert bd.mean() == pytest.approx(5.3, abs=0.8) and bd.std() == pytest.approx(6.1, abs=1.5)
    got = r["health_budget_gbp"] > 0
    assert got.mean() == pytest.approx(0.45, abs=0.06)
    assert r.loc[got, "health_budget_gbp"].mean() == pytest.approx(129, rel=0.35)
    assert "gp_appointments" not in norfolk.tables and "hospital_spells" in norfolk.tables


def test_planted_readmission_figures_match_the_seed():
    p = S.PLANTED["readmission"]
    assert p["readmission_14d"] == pytest.approx(0.04, abs=0.005)
    assert p["readmission_90d"] == pytest.approx(0.07, abs=0.005)
    assert p["death_90d"] == pytest.approx(0.03, abs=0.005)


def test_planted_readmission_is_the_exact_cif_of_the_generating_model():
    """Simulate the generator's day-level model with no censoring: empirical CIFs match PLANTED."""
    rng = np.random.default_rng(1)
    n = 400_000
    r = inverse_cdf(rng, READMIT_CDF, n)
    d = inverse_cdf(rng, DEATH_CDF, n)
    r_first = (r >= 0) & ((d < 0) | (r <= d))
    for days in (14, 30, 90):
        emp = np.mean(r_first & (r <= days - 1))
        assert emp == pytest.approx(S.PLANTED["readmission"][f"readmission_{days}d"], abs=0.002)
    d_first = (d >= 0) & ((r < 0) | (d < r))
    assert np.mean(d_first & (d <= 89)) == pytest.approx(S.PLANTED["readmission"]["death_90d"], abs=0.002)


def test_gp_appointments_peak_before_referral_then_fall(merton):
    """The planted shape: quarter -1 (x1.5) > quarter -2 (x1.2) > baseline > after (x0.9)."""
    r = merton.tables["referrals"].sort_values("referral_date").drop_duplicates("patient_id")
    gp = merton.tables["gp_appointments"].merge(r[["patient_id", "referral_date"]], on="patient_id")
    start, end = merton.config.extract_start, merton.config.extract_end
    inside = r[(r["referral_date"] - pd.Timestamp(start)).dt.days > 365]
    inside = inside[(pd.Timestamp(end) - inside["referral_date"]).dt.days > 365]
    gp = gp[gp["patient_id"].isin(inside["patient_id"])]
    off = (gp["appointment_date"] - gp["referral_date"]).dt.days
    q = {k: ((off >= lo) & (off <= hi)).sum() for k, (lo, hi) in
         {"-4": (-364, -274), "-3": (-273, -183), "-2": (-182, -92), "-1": (-91, -1), "+1": (1, 91), "+2": (92, 182)}.items()}
    base = (q["-4"] + q["-3"]) / 2
    assert q["-1"] / base == pytest.approx(1.5, rel=0.1)
    assert q["-2"] / base == pytest.approx(1.2, rel=0.1)
    assert (q["+1"] + q["+2"]) / 2 / base == pytest.approx(0.9, rel=0.1)


def test_clinical_measurements_only_for_register_patients_and_may_predate_the_extract(merton):
    cm = merton.tables["clinical_measurements"]
    r = merton.tables["referrals"]
    on_register = r.loc[r["diabetes"].eq(True) | r["severe_mental_illness"].eq(True), "patient_id"]
    assert cm["patient_id"].isin(on_register).all()
    assert (cm["measurement_date"] < pd.Timestamp(merton.config.extract_start)).any()


def test_identifiers_are_pseudonyms_not_numbers(merton):
    ids = merton.tables["referrals"]["patient_id"]
    assert ids.str.fullmatch(r"pt-[A-Z2-9]{8}").all()
    assert not ids.str.fullmatch(r"\d+").any()


def test_an_extract_k_times_the_area_has_k_times_the_practices():
    """Benchmarks scale an area up; its practices multiply with it, so referrals per practice (and
    the GP matching's within-practice pools) stay the area's own size."""
    base, _ = S.build_tables("city-of-london")
    big, _ = S.build_tables("city-of-london", n_referrals=3 * AREAS["city-of-london"].n_referrals)
    n0 = base["referrals"]["practice_code"].nunique()
    n3 = big["referrals"]["practice_code"].nunique()
    assert 2.5 * n0 <= n3 <= 3 * n0
    per0 = len(base["referrals"]) / n0
    per3 = len(big["referrals"]) / n3
    assert 0.7 < per3 / per0 < 1.3
