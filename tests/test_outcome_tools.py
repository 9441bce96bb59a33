"""Other outcome instruments (SWEMWBS, EQ-5D-5L, PAM, WSAS, Well-being Star): the published scoring
rules, the contract's rules for their items and scores, the analysis by hand on a tiny extract,
disclosure control, and the effects planted in the synthetic extracts recovered."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from pipeline import synthetic as S
from pipeline.analyses import outcome_tools as O
from pipeline.checks import check_tables
from pipeline.config import DisclosureSettings, load_settings
from pipeline.contract import TABLES
from pipeline.disclosure import release
from pipeline.extract import Extract, ExtractConfig
from pipeline.instruments import SWEMWBS, WSAS, eq5d5l_index, pam_level, swemwbs_metric, wsas_band
from pipeline.load import load_extract
from pipeline.sections import NotAvailable
from pipeline.synthetic import build
from pipeline.synthetic.instruments import AREA_INSTRUMENTS, split_total
from pipeline.synthetic.planted import instrument_expected

OFF = DisclosureSettings(enabled=False)
DAY0 = pd.Timestamp("2022-05-02")


# ------------------------------------------------------------------------------ scoring rules
def test_swemwbs_conversion_table_ends_and_middle():
    got = swemwbs_metric(np.array([7, 8, 20, 21, 28, 29, 34, 35, 6, 36, np.nan]))
    assert list(got[:8]) == [7.00, 9.51, 18.59, 19.25, 25.03, 26.02, 32.55, 35.00]
    assert np.isnan(got[8:]).all()  # out of range or missing: no metric score


def test_eq5d5l_england_value_set():
    def idx(*levels):
        return float(eq5d5l_index(pd.DataFrame([levels], columns=list(O.EQ5D_LABELS)))[0])
    assert idx(1, 1, 1, 1, 1) == 1.0
    assert idx(5, 5, 5, 5, 5) == -0.285  # the value set's worst state
    assert idx(2, 1, 1, 1, 1) == 0.942
    assert idx(1, 2, 3, 4, 5) == round(1 - 0.050 - 0.063 - 0.276 - 0.289, 3)
    assert np.isnan(eq5d5l_index(pd.DataFrame([(1, 1, 1, 1, None)], columns=list(O.EQ5D_LABELS))))[0]


def test_pam_levels_at_the_published_cut_points():
    assert list(pam_level(np.array([0, 47.0, 47.1, 55.1, 55.2, 67.0, 67.1, 100]))) == [1, 1, 2, 2, 3, 3, 4, 4]


def test_wsas_bands():
    assert list(wsas_band(np.array([0, 9, 10, 20, 21, 40, np.nan]))) == [0, 0, 1, 1, 2, 2, -1]


# ------------------------------------------------------------------------------ the contract's rules
def typed(name, df):
    out = {}
    for col in TABLES[name].columns:
        s = df[col.name] if col.name in df else pd.Series([None] * len(df))
        out[col.name] = pd.to_datetime(s) if col.type == "date" else s.astype(col.dtype)
    t = pd.DataFrame(out)
    t.index = pd.RangeIndex(2, len(t) + 2)
    return t


def referrals(ids):
    return pd.DataFrame({"referral_id": ids, "patient_id": [f"P{i}" for i in ids], "practice_code": "A12345",
                         "pcn": "PCN 1", "referral_date": pd.Timestamp("2022-04-04"), "referral_source": "gp",
                         "referral_reason": "other", "age": 50, "gender": "female", "ethnicity": "white"})


def rows(*records):
    """(referral_id, day offset from DAY0, instrument, item, score) -> outcome_measures rows."""
    return pd.DataFrame([{"referral_id": r, "assessment_date": DAY0 + pd.Timedelta(days=d), "instrument": ins,
                          "item": it, "score": sc} for r, d, ins, it, sc in records])


def problems(om):
    """The extract's problems, less the required sp_contacts table it leaves out."""
    ref_ids = sorted(set(om["referral_id"]))
    found = check_tables({"referrals": typed("referrals", referrals(ref_ids)),
                          "outcome_measures": typed("outcome_measures", om)}, date(2021, 4, 1), date(2024, 3, 31))
    return [p for p in found if p.file != "sp_contacts.csv"]


def test_valid_instrument_rows_pass_and_unknown_instruments_are_carried():
    om = rows(*[("R1", 0, "swemwbs", it, 3) for it in SWEMWBS.item_names],
              ("R1", 0, "eq5d5l", "vas", 70), ("R1", 0, "pam", "score", 55.3), ("R1", 0, "pam", "level", 3),
              ("R1", 0, "wsas", "work", 8), ("R1", 0, "wellbeing_star", "money", 10),
              ("R1", 0, "phq9", "item_9", 99), ("R1", 0, "ons4", "anxiety", 4),
              ("R1", 0, "swemwbs", "total", 42.5))  # another item of a listed instrument: carried (tiny has one)
    assert problems(om) == []


@pytest.mark.parametrize("record, column, message, value", [
    (("R1", 0, "swemwbs", "useful", 6), "score", "must be a whole number from 1 to 5 for swemwbs item useful", "6"),
    (("R1", 0, "eq5d5l", "mobility", 2.5), "score", "must be a whole number from 1 to 5 for eq5d5l item mobility",
     2.5),
    (("R1", 0, "eq5d5l", "vas", 101), "score", "must be a whole number from 0 to 100 for eq5d5l item vas", "101"),
    (("R1", 0, "pam", "score", 100.5), "score", "must be a number from 0 to 100 for pam item score", 100.5),
    (("R1", 0, "pam", "level", 5), "score", "must be a whole number from 1 to 4 for pam item level", "5"),
    (("R1", 0, "wsas", "work", -1), "score", "must be a whole number from 0 to 8 for wsas item work", "-1"),
    (("R1", 0, "wellbeing_star", "money", 0), "score", "must be a whole number from 1 to 10 for wellbeing_star item "
     "money", "0"),
])
def test_a_broken_rule_names_file_column_row_and_value(record, column, message, value):
    om = rows(("R1", 0, "ons4", "anxiety", 4), record)
    (p,) = problems(om)
    assert p.file == "outcome_measures.csv" and p.column == column and p.rows == (3,)
    assert p.message.startswith(message) and p.values == (value,)


# ------------------------------------------------------------------------------ the analysis by hand
def swemwbs(ref, day, scores):
    return [(ref, day, "swemwbs", it, s) for it, s in zip(SWEMWBS.item_names[: len(scores)], scores, strict=True)]


def extract(om):
    ids = sorted(set(om["referral_id"]))
    tables = {"referrals": typed("referrals", referrals(ids)).reset_index(drop=True),
              "outcome_measures": typed("outcome_measures", om).reset_index(drop=True)}
    cfg = ExtractConfig(slug="test", borough="Test", ons_code="E09000099", extract_start=date(2021, 4, 1),
                        extract_end=date(2024, 3, 31), registered_population=10000)
    return Extract(cfg, tables, sha256="0" * 64)


HAND = rows(
    *swemwbs("R1", 0, [3] * 7), *swemwbs("R1", 60, [4] * 7),                  # 21 -> 28: 19.25 -> 25.03
    *swemwbs("R2", 0, [2] * 7), *swemwbs("R2", 30, [2] * 6 + [3]),            # 14 -> 15: 15.32 -> 15.84
    *swemwbs("R2", 10, [5] * 7),                                               # between them: not used
    *swemwbs("R3", 0, [1] * 7),                                                # baseline only: 7.00
    *swemwbs("R4", 0, [5] * 7), *swemwbs("R4", 10, [1] * 7),                  # 10 days apart: no pair, 35.00
    *swemwbs("R5", 0, [3] * 6),                                                # 6 items: no score
    ("R1", 60, "swemwbs", "useful", 1),                                        # the later row on a date counts:
    ("R1", 60, "swemwbs", "useful", 4),                                        # 28 stays 28
    *[("R6", 0, "wsas", it, 5) for it in WSAS.item_names],                     # 25 (above 20)
    *[("R6", 40, "wsas", it, 1) for it in WSAS.item_names],                    # 5 (below 10)
    *[("R7", 0, "wsas", it, 2) for it in WSAS.item_names],                     # 10 (10-20)
    *[("R7", 40, "wsas", it, 3) for it in WSAS.item_names],                    # 15 (10-20)
    ("R6", 0, "pam", "score", 47.0), ("R6", 50, "pam", "score", 55.2),         # level 1 -> 3
    ("R7", 0, "pam", "level", 4), ("R7", 50, "pam", "level", 3),               # level 4 -> 3 (given)
    ("R8", 0, "eq5d5l", "mobility", 3), ("R8", 0, "eq5d5l", "self_care", 1), ("R8", 0, "eq5d5l", "usual_activities", 2),
    ("R8", 0, "eq5d5l", "pain_discomfort", 4), ("R8", 0, "eq5d5l", "anxiety_depression", 2),
    ("R8", 90, "eq5d5l", "mobility", 2), ("R8", 90, "eq5d5l", "self_care", 1), ("R8", 90, "eq5d5l", "usual_activities", 2),
    ("R8", 90, "eq5d5l", "pain_discomfort", 4), ("R8", 90, "eq5d5l", "anxiety_depression", 3),  # mixed
    ("R8", 0, "eq5d5l", "vas", 40), ("R8", 90, "eq5d5l", "vas", 65),
)


@pytest.fixture(scope="module")
def hand():
    return O.compute(extract(HAND), load_settings())


def test_swemwbs_pairs_by_hand(hand):
    sw = hand.instruments["swemwbs"]
    assert sw.n_with_baseline == 4 and sw.n_completers == 2  # R1..R4 have a baseline; R1 and R2 a pair
    s = sw.scores["metric"]
    assert s.change.n == 2
    assert s.change.mean_baseline == pytest.approx((19.25 + 15.32) / 2)
    assert s.change.mean_change == pytest.approx(((25.03 - 19.25) + (15.84 - 15.32)) / 2)
    assert s.groups == {"improved": 1, "no_meaningful_change": 1, "worsened": 0}  # 5.78 >= 3; 0.52 < 3
    assert s.baseline_not_followed == (pytest.approx((7.00 + 35.00) / 2), 2)  # R3 and R4


def test_wsas_pam_eq5d_by_hand(hand):
    w = hand.instruments["wsas"]
    assert w.scores["total"].change.mean_change == pytest.approx(((5 - 25) + (15 - 10)) / 2)
    assert w.scores["total"].groups == {"improved": 1, "no_meaningful_change": 1, "worsened": 0}
    assert w.tables["band_transitions"]["above_20"]["below_10"] == 1
    assert w.tables["band_transitions"]["10_to_20"]["10_to_20"] == 1
    p = hand.instruments["pam"]
    assert p.tables["level_transitions"]["1"]["3"] == 1 and p.tables["level_transitions"]["4"]["3"] == 1
    assert p.scores["level"].groups == {"improved": 1, "no_meaningful_change": 0, "worsened": 1}
    assert p.scores["score"].change.n == 1 and p.scores["score"].change.mean_change == pytest.approx(8.2)
    e = hand.instruments["eq5d5l"]
    assert e.shares["paretian"] == {"better": 0, "worse": 0, "mixed": 1, "no_change": 0}
    assert e.shares["dimension.mobility"]["improved"] == 1 and e.shares["dimension.anxiety_depression"]["worsened"] == 1
    base = 1 - 0.076 - 0.050 - 0.276 - 0.078
    follow = 1 - 0.058 - 0.050 - 0.276 - 0.104
    assert e.scores["index"].change.mean_change == pytest.approx(round(follow, 3) - round(base, 3))
    assert e.scores["vas"].change.mean_change == 25
    assert hand.missing == {"wellbeing_star": "this extract has no wellbeing_star scores"}


def test_published_without_disclosure_control(hand):
    d = release(O.publish, hand, OFF).data
    m = d["swemwbs"]["scores"]["metric"]
    assert m["n_pairs"] == 2 and m["change_pct"] == {"improved": 50.0, "no_meaningful_change": 50.0, "worsened": 0.0}
    assert d["swemwbs"]["completion_pct"] == 50.0
    assert d["wellbeing_star"] == {"status": "not_run", "reason": "this extract has no wellbeing_star scores"}
    assert d["pam"]["level_transitions"]["counts"]["1"]["3"] == 1


def test_disclosure_withholds_small_numbers_everywhere(hand):
    pub = release(O.publish, hand, load_settings().disclosure)
    m = pub.data["swemwbs"]["scores"]["metric"]
    assert m["n_pairs"] is None and m["mean_change"] is None and m["ci95"] is None
    assert all(v is None for v in m["change_pct"].values())
    assert pub.data["swemwbs"]["n_with_baseline"] is None and pub.data["swemwbs"]["completion_pct"] is None
    assert "swemwbs.scores.metric.mean_baseline_not_followed_up" in pub.suppressed


def test_no_instrument_rows_is_not_available():
    with pytest.raises(NotAvailable, match="no SWEMWBS, EQ-5D-5L, PAM, WSAS or Well-being Star"):
        O.compute(extract(rows(("R1", 0, "ons4", "anxiety", 4))), load_settings())


# ------------------------------------------------------------------------------ synthetic: planted, appended
def test_split_total_adds_up_within_range():
    rng = np.random.default_rng(1)
    t = np.array([7, 20, 35, 21])
    items = split_total(rng, t, 7, 1, 5)
    assert (items.sum(axis=1) == t).all() and items.min() >= 1 and items.max() <= 5


@pytest.fixture(scope="module")
def kc(tmp_path_factory):
    folder = S.generate("kensington-and-chelsea", tmp_path_factory.mktemp("kc") / "kensington-and-chelsea")
    return folder, O.compute(load_extract(folder), load_settings())


def _close(change, expected):
    """Within 4 standard errors of the planted expectation."""
    se = change.sd_change / np.sqrt(change.n)
    return abs(change.mean_change - expected) <= 4 * se


def test_planted_improvements_are_recovered(kc):
    _, raw = kc
    exp = instrument_expected()
    ins = raw.instruments
    assert set(ins) == set(AREA_INSTRUMENTS["kensington-and-chelsea"])
    assert exp["swemwbs_metric"] == pytest.approx(2.0, abs=0.05)  # the planted +2 metric points, after scoring
    assert _close(ins["swemwbs"].scores["metric"].change, exp["swemwbs_metric"])
    assert _close(ins["eq5d5l"].scores["index"].change, exp["eq5d5l_index"])
    assert _close(ins["eq5d5l"].scores["vas"].change, exp["eq5d5l_vas"])
    assert _close(ins["pam"].scores["score"].change, exp["pam_score"])
    assert _close(ins["wsas"].scores["total"].change, exp["wsas_total"])
    for s in ins["wellbeing_star"].scores.values():
        assert _close(s.change, exp["wellbeing_star_area"])
    n = ins["eq5d5l"].n_completers
    better = np.mean([v["improved"] / n for k, v in ins["eq5d5l"].shares.items() if k.startswith("dimension.")])
    assert better == pytest.approx(exp["eq5d5l_dimension_better"], abs=0.04)
    lv = ins["pam"].scores["level"]
    assert lv.groups["improved"] / lv.change.n == pytest.approx(exp["pam_level_up_share"], abs=0.08)


def test_instrument_rows_are_appended_after_the_ons4_rows(kc, monkeypatch):
    """The ONS4 rows stay byte for byte as they were (the pinned areas get no new rows at all:
    tests/test_synthetic.py checks their files)."""
    folder, _ = kc
    monkeypatch.setattr(build, "OWN_STREAM_ROWS", {})
    without = build.build_tables("kensington-and-chelsea")[0]["outcome_measures"]
    with_rows = pd.read_csv(folder / "outcome_measures.csv")
    assert set(without["instrument"]) == {"ons4"}
    text = (folder / "outcome_measures.csv").read_text()
    head = "\n".join(text.split("\n")[: len(without) + 1])
    assert head == without.assign(assessment_date=without["assessment_date"].dt.strftime("%Y-%m-%d")).to_csv(
        index=False, lineterminator="\n").rstrip("\n")
    assert set(with_rows["instrument"][len(without):]) == set(AREA_INSTRUMENTS["kensington-and-chelsea"])


def test_an_area_not_listed_gets_no_instrument_rows(monkeypatch):
    listed = build.build_tables("camden", n_referrals=300)[0]["outcome_measures"]
    monkeypatch.setattr(build, "OWN_STREAM_ROWS", {})
    pd.testing.assert_frame_equal(listed, build.build_tables("camden", n_referrals=300)[0]["outcome_measures"])
    assert "camden" not in AREA_INSTRUMENTS
