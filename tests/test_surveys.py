"""Surveys: the ``survey_responses`` contract rules, the section by hand on small frames, the
disclosure rules where they bite, and the planted rise recovered from a synthetic extract.
(The end-to-end build, with free text planted, is ``tests/test_surveys_e2e.py``.)"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import proportion_confint
from test_contract import FIXTURE, add_row, find_problem, load_error, set_cell

from pipeline import synthetic as S
from pipeline.analyses import surveys
from pipeline.analyses.proportions import newcombe, two_proportion_p, wilson
from pipeline.config import DisclosureSettings
from pipeline.disclosure import Rules, release
from pipeline.extract import Extract, ExtractConfig
from pipeline.load import load_extract
from pipeline.publish import scan_for_identifiers
from pipeline.synthetic.planted import PLANTED
from pipeline.synthetic.surveys import SKIP, SURVEY_AREAS

FILE = "survey_responses.csv"
OPEN = Rules(DisclosureSettings(enabled=False))
#: tests/fixtures/tiny/survey_responses.csv, spreadsheet rows 2..7: S1 (patient, wave 1: an answer
#: and a free-text comment), S2 (patient, wave 1, skipped), S3 (link worker, wave 2), S4 (practice
#: staff, wave 2), S5 (patient, wave 2)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "tiny"))



# ---------------------------------------------------------------------------------- the contract

def test_a_valid_survey_table_loads_typed(tiny):
    ex = load_extract(tiny)
    sv = ex["survey_responses"]
    assert len(sv) == 6 and str(sv["response"].dtype) == "Int64" and str(sv["survey_wave"].dtype) == "Int64"
    assert sv["response"].isna().sum() == 2 and sv["response_date"].isna().sum() == 1
    assert sv["free_text"].iloc[1] == "The group helped, thanks"  # kept in the typed table, never published


CASES = [
    ("unknown respondent group", lambda d: set_cell(d, FILE, 5, "respondent_group", "nurse"), "respondent_group", 5,
     "nurse"),
    ("response off the scale", lambda d: set_cell(d, FILE, 2, "response", "6"), "response", 2, "6"),
    ("a label instead of a number", lambda d: set_cell(d, FILE, 6, "response", "Agree"), "response", 6, "Agree"),
    ("wave 0", lambda d: set_cell(d, FILE, 7, "survey_wave", "0"), "survey_wave", 7, "0"),
    ("question_id not snake case", lambda d: set_cell(d, FILE, 5, "question_id", "Caseload OK"), "question_id", 5,
     "Caseload OK"),
    ("no wording", lambda d: set_cell(d, FILE, 6, "question_text", ""), "question_text", 6, None),
    ("a question answered twice on one questionnaire",
     lambda d: add_row(d, FILE, {"response_id": "S1", "respondent_group": "patient", "survey_wave": "1",
                                 "question_id": "connected_community",
                                 "question_text": "I feel more connected to my community", "response": "5"}),
     "question_id", 8, "connected_community"),
    ("a questionnaire in two groups", lambda d: set_cell(d, FILE, 3, "respondent_group", "link_worker"),
     "respondent_group", 3, "link_worker"),
    ("a questionnaire in two waves", lambda d: set_cell(d, FILE, 3, "survey_wave", "2"), "survey_wave", 3, "2"),
    ("a questionnaire returned on two days", lambda d: set_cell(d, FILE, 3, "response_date", "2022-06-04"),
     "response_date", 3, "2022-06-04"),
    ("a question with two wordings", lambda d: set_cell(d, FILE, 7, "question_text", "I feel connected"),
     "question_text", 7, "I feel connected"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_broken_rule_names_file_column_row_and_value(tiny, case):
    _, mutate, column, row, value = case
    mutate(tiny)
    find_problem(load_error(tiny), FILE, column, row, value)


# ---------------------------------------------------------------------------------- by hand

def _extract(rows: list[tuple]) -> Extract:
    """rows: (response_id, group, wave, question_id, response or None[, free_text])."""
    df = pd.DataFrame([(*r[:4], f"Wording of {r[3]}", r[4], r[5] if len(r) > 5 else None) for r in rows],
                      columns=["response_id", "respondent_group", "survey_wave", "question_id", "question_text",
                               "response", "free_text"])
    df["response"] = df["response"].astype("Int64")
    df["survey_wave"] = df["survey_wave"].astype("Int64")
    df["response_date"] = pd.NaT
    cfg = ExtractConfig(slug="t", borough="T", ons_code="E09000099", extract_start=date(2022, 4, 1),
                        extract_end=date(2024, 3, 31), registered_population=1000, synthetic=True)
    return Extract(cfg, {"survey_responses": df}, sha256="0" * 64)


def _answers(prefix: str, group: str, wave: int, question: str, counts: dict) -> list[tuple]:
    """One questionnaire per answer: ``counts`` maps a response (None: skipped) to how many."""
    rows, i = [], 0
    for response, n in counts.items():
        for _ in range(n):
            i += 1
            rows.append((f"{prefix}{i}", group, wave, question, response))
    return rows


HAND = (_answers("a", "patient", 1, "connected", {1: 4, 2: 6, 3: 10, 4: 12, 5: 6, None: 2})
        + _answers("b", "patient", 2, "connected", {1: 2, 2: 4, 3: 8, 4: 16, 5: 18, None: 2})
        + [("a1", "patient", 1, "comments", None, "My neighbour Mr Zyxwv helped")])


def test_shares_intervals_and_change_by_hand():
    """40 then 50 patient questionnaires; agreeing 18/40 then 34/50 (skipped answers count as not
    agreeing); disclosure control off, so every figure is the exact one."""
    raw = surveys.compute(_extract(HAND))
    assert raw.questionnaires == {"patient": {1: 40, 2: 50}}
    assert raw.unscored == {"patient": {"comments": "Wording of comments"}}
    d = release(surveys.publish, raw, OPEN).data
    q = d["questions"]["patient"]["connected"]
    w1, w2 = q["waves"]["1"], q["waves"]["2"]
    assert w1["counts"] == {"1": 4, "2": 6, "3": 10, "4": 12, "5": 6, "no_answer": 2}
    assert w1["pct"] == {"1": 10.0, "2": 15.0, "3": 25.0, "4": 30.0, "5": 15.0, "no_answer": 5.0}
    assert (w1["agree"], w1["agree_pct"], w2["agree"], w2["agree_pct"]) == (18, 45.0, 34, 68.0)
    lo, hi = proportion_confint(18, 40, method="wilson")  # an independent implementation
    assert w1["agree_ci95"] == [round(lo * 100, 1), round(hi * 100, 1)] == [30.7, 60.2]
    c = q["change"]
    assert (c["from_wave"], c["to_wave"], c["agree_pct_points"]) == ("1", "2", 23.0)
    p = chi2_contingency([[18, 22], [34, 16]], correction=False)[1]
    assert c["p_value"] == round(p, 4) and c["direction"] == surveys.UP
    assert c["ci95"][0] > 0 and c["ci95"][0] < 23.0 < c["ci95"][1]
    assert d["questionnaires"] == {"by_group": {"patient": 90}, "by_group_wave": {"patient": {"1": 40, "2": 50}}}
    assert "Zyxwv" not in json.dumps(d)  # free text is never read


def test_newcombe_and_the_z_test_match_the_published_examples():
    # Newcombe (1998), Statistics in Medicine 17:873, Table II example (a): 56/70 - 48/80, method 10
    lo, hi = newcombe(48, 80, 56, 70)
    assert (round(lo / 100, 4), round(hi / 100, 4)) == (0.0524, 0.3339)
    assert two_proportion_p(48, 80, 56, 70) == pytest.approx(
        chi2_contingency([[56, 14], [48, 32]], correction=False)[1], rel=1e-12)
    assert wilson(0, 0) is None and two_proportion_p(5, 5, 5, 5) == 1.0


# ---------------------------------------------------------------------------------- disclosure

def test_disclosure_rounds_withholds_and_computes_from_the_rounded_counts():
    rows = (_answers("a", "patient", 1, "connected", {1: 3, 2: 14, 3: 21, 4: 33, 5: 16, None: 9})
            + _answers("b", "patient", 2, "connected", {1: 9, 2: 11, 3: 22, 4: 41, 5: 26, None: 9})
            + _answers("c", "link_worker", 1, "caseload", {2: 3, 3: 2, 4: 6, 5: 1})
            + _answers("d", "link_worker", 2, "caseload", {1: 2, 4: 2, 5: 1}))
    pub = release(surveys.publish, surveys.compute(_extract(rows)))
    d = pub.data
    q = d["questions"]["patient"]["connected"]
    w1, w2 = q["waves"]["1"], q["waves"]["2"]
    # 96 then 118 questionnaires -> 95 and 120; wave 1 has 3 "strongly disagree": its answers are
    # shown in three (no six-way split with withheld cells), wave 2 is shown whole
    assert d["questionnaires"]["by_group_wave"]["patient"] == {"1": 95, "2": 120}
    assert w1["breakdown"] == surveys.THREE_POINT and w1["counts"] == {
        "disagree": 15, "neither": 20, "agree": 50, "no_answer": 10}
    assert w1["pct"] == {"disagree": 15.8, "neither": 21.1, "agree": 52.6, "no_answer": 10.5}
    assert w2["breakdown"] == surveys.FIVE_POINT and w2["counts"] == {
        "1": 10, "2": 10, "3": 20, "4": 40, "5": 25, "no_answer": 10}
    assert w2["pct"]["5"] == round(25 / 120 * 100, 1)  # from the rounded counts
    assert w1["agree"] == 50 and w1["agree_pct"] == round(50 / 95 * 100, 1)
    assert w1["agree_ci95"] == [round(x, 1) for x in wilson(50, 95)]  # from the published counts
    assert w2["agree"] == 65 and q["change"]["ci95"] == [round(x, 1) for x in newcombe(50, 95, 65, 120)]
    assert q["change"]["p_value"] == round(two_proportion_p(50, 95, 65, 120), 4)
    # 12 then 5 link workers: the 5 are withheld, and the 12 or the group's total (17) with them;
    # every count and share of theirs goes with its base. The patients are not touched (no total
    # across groups ties them to the link workers)
    lw = d["questions"]["link_worker"]["caseload"]
    waves = d["questionnaires"]["by_group_wave"]["link_worker"]
    assert waves["2"] is None and (waves["1"] is None) != (d["questionnaires"]["by_group"]["link_worker"] is None)
    assert all(lw["waves"][w][k] is None for w in ("1", "2") for k in ("agree", "agree_pct", "agree_ci95"))
    assert lw["change"]["ci95"] is None and lw["change"]["direction"] is None
    assert "questions.link_worker.caseload.waves.1.agree_pct" in pub.suppressed
    # with control off the same answers are shown whole and exact
    open_ = release(surveys.publish, surveys.compute(_extract(rows)), OPEN).data
    assert open_["questions"]["patient"]["connected"]["waves"]["1"]["counts"]["1"] == 3
    # a handful in one category and in "neither agree nor disagree": agreeing or not only
    rows = _answers("e", "patient", 1, "q", {1: 20, 2: 20, 3: 5, 4: 30, 5: 30})
    only = release(surveys.publish, surveys.compute(_extract(rows))).data["questions"]["patient"]["q"]["waves"]["1"]
    assert (only["breakdown"], only["counts"], only["agree"], only["agree_pct"]) == (surveys.AGREE_ONLY, None, 60, 57.1)


# ---------------------------------------------------------------------------------- synthetic

@pytest.fixture(scope="module")
def merton(tmp_path_factory):
    return load_extract(S.generate("merton", tmp_path_factory.mktemp("m") / "merton"))


def test_the_synthetic_table_is_in_the_survey_areas_only():
    assert "survey_responses" in S.build_tables("sutton", n_referrals=300)[0]
    assert "survey_responses" not in S.build_tables("camden", n_referrals=300)[0]
    assert "survey_responses" not in S.build_tables("norfolk-and-waveney")[0]
    assert set(SURVEY_AREAS) == {"merton", "sutton", "kingston-upon-thames", "richmond-upon-thames"}


def test_the_planted_rise_is_recovered_from_the_published_section(merton):
    """Planted: patients agreeing "I feel more connected to my community" 45% -> 60% of those
    answering; 4% skip each question, so of questionnaires returned 43.2% -> 57.6% (+14.4 points).
    The published change must lie within 3 standard errors of that, with its interval covering it;
    the unplanted patient questions must not move by more than 3 standard errors."""
    sv = merton["survey_responses"]
    assert set(sv["survey_wave"]) == {1, 2} and sv["free_text"].notna().any()
    d = release(surveys.publish, surveys.compute(merton)).data
    base = d["questionnaires"]["by_group_wave"]["patient"]
    planted = PLANTED["survey"]
    expected = planted["change_pct_points"] * (1 - SKIP)
    assert planted["agree_pct"] == {1: 45.0, 2: 60.0} and expected == pytest.approx(14.4)
    for q, d_q in d["questions"]["patient"].items():
        c = d_q["change"]
        a, b = d_q["waves"]["1"]["agree_pct"] / 100, d_q["waves"]["2"]["agree_pct"] / 100
        se = 100 * ((a * (1 - a) / base["1"]) + (b * (1 - b) / base["2"])) ** 0.5
        target = expected if q == planted["question"] else 0.0
        assert abs(c["agree_pct_points"] - target) < 3 * se, (q, c, se)
        if q == planted["question"]:
            assert c["ci95"][0] < expected < c["ci95"][1] and c["direction"] == surveys.UP


def test_a_published_response_id_is_an_identifier(tiny, tmp_path):
    """The publisher's identifier scan knows survey response ids as it knows patient and referral ids."""
    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text("<p>Questionnaire S3 said its caseload was unmanageable.</p>")
    assert scan_for_identifiers(out, load_extract(tiny)) == [("index.html", "S3")]
