"""The disclosure layer: cells and sums, every kind of figure, curves from rounded counts, the ledger."""

import numpy as np
import pytest

from pipeline.config import DisclosureSettings
from pipeline.disclosure import Release, Rules
from pipeline.disclosure.cells import SECONDARY, SMALL
from pipeline.disclosure.statement import markdown, statement


@pytest.fixture
def rel():
    return Release()


def test_counts_rounded_small_hidden_zero_kept(rel):
    out = rel.publish({"a": rel.count(0), "b": rel.count(7), "c": rel.count(8), "d": rel.count(12),
                       "e": rel.count(13), "f": rel.count(103)})
    assert out.data == {"a": 0, "b": None, "c": 10, "d": 10, "e": 15, "f": 105}
    assert out.suppressed == ["b"]


def test_a_bare_number_is_a_bug(rel):
    with pytest.raises(TypeError, match="x.y: 3 .* did not pass the disclosure layer"):
        rel.publish({"x": {"y": 3}})
    with pytest.raises(TypeError, match="did not pass"):
        rel.publish({"x": np.float64(0.5)})


def test_text_booleans_and_none_pass_and_none_is_recorded(rel):
    out = rel.publish({"method": "t-test", "flag": True, "absent": None})
    assert out.data == {"method": "t-test", "flag": True, "absent": None}
    assert [(e.path, e.rule) for e in out.ledger] == [("absent", "not_applicable")]


def test_secondary_suppression_within_a_split(rel):
    total = rel.cell(55)
    parts = rel.split(total, {"a": 40, "b": 12, "c": 3, "d": 0})
    out = rel.publish({"total": rel.count(total), "parts": rel.counts(parts)})
    assert out.data == {"total": 55, "parts": {"a": 40, "b": None, "c": None, "d": 0}}
    rules = {e.path: e.rule for e in out.ledger}
    assert rules["parts.c"] == SMALL and rules["parts.b"] == SECONDARY


def test_a_hidden_cell_is_hidden_everywhere_it_appears(rel):
    total = rel.cell(55)
    parts = rel.split(total, {"a": 40, "b": 12, "c": 3})
    # the same cell 'c' published again under another name: hidden there too
    out = rel.publish({"parts": rel.counts(parts), "total": rel.count(total), "started_in_c": rel.count(parts["c"]),
                       "c_pct": rel.pct(parts["c"], total)})
    assert out.data["started_in_c"] is None and out.data["c_pct"] is None


def test_suppression_spreads_across_tables_sharing_cells(rel):
    # months add up to the year, and practices within one PCN add up to that PCN
    year = rel.cell(100)
    pcn = rel.split(year, {"north": 60, "south": 40})
    practices = rel.split(pcn["north"], {"N1": 55, "N2": 5})
    out = rel.publish({"year": rel.count(year), "pcn": rel.counts(pcn), "practices": rel.counts(practices)})
    # N2 (5) is small; within north it is the only hidden cell, so N1 goes too: north is still published
    assert out.data["practices"] == {"N1": None, "N2": None}
    assert out.data["pcn"] == {"north": 60, "south": 40}


def test_audit_catches_a_cell_pinned_down_by_two_tables(rel):
    # a 2x2 table with one small cell: row and column rules alone would hide a second cell in its row,
    # but then the column sums pin them down; the audit keeps hiding until no hidden cell is determined
    t = rel.table({"r1": {"x": 3, "y": 20}, "r2": {"x": 30, "y": 40}}, "t")
    tree = {r: {c: rel.count(t.cell[(r, c)]) for c in t.cols} for r in t.rows}
    tree["row_totals"] = {r: rel.count(t.row_total[r]) for r in t.rows}
    tree["col_totals"] = {c: rel.count(t.col_total[c]) for c in t.cols}
    tree["total"] = rel.count(t.total)
    out = rel.publish(tree)
    hidden = [k for k in ("r1", "r2") for c in ("x", "y") if out.data[k][c] is None]
    assert len(hidden) == 4  # every cell: with all margins shown, any fewer would be solvable


def test_percentages_come_from_rounded_counts(rel):
    # 13 of 42: rounded 15 of 40 = 37.5%, not 30.95%
    out = rel.publish({"p": rel.pct(13, 42), "small_base": rel.pct(3, 7), "small_num": rel.pct(3, 100),
                       "zero": rel.pct(0, 100), "nothing": rel.pct(0, 0)})
    assert out.data == {"p": 37.5, "small_base": None, "small_num": None, "zero": 0.0, "nothing": None}
    rules = {e.path: e.rule for e in out.ledger}
    assert rules == {"p": "derived", "small_base": "small_base", "small_num": "small_count", "zero": "derived",
                     "nothing": "not_estimable"}


def test_ratio_and_rate_come_from_rounded_counts(rel):
    # 301 contacts over 99 people: 300 / 100 = 3.0 (the exact ratio 3.04 would pin both down)
    out = rel.publish({"ratio": rel.ratio(301, 99), "rate": rel.rate(123, 10_000, per=1000)})
    assert out.data == {"ratio": 3.0, "rate": 12.5}


def test_estimates_need_a_base_and_enough_events(rel):
    out = rel.publish({"ok": rel.estimate(2.3456, 8), "base": rel.estimate(2.3, 7),
                       "events": rel.estimate(12.0, 500, events=5), "nan": rel.estimate(float("nan"), 50, reason="all equal"),
                       "ci": rel.interval(1.234, 2.345, 80, decimals=1), "ci_small": rel.interval(1.0, 2.0, 7)})
    assert out.data == {"ok": 2.35, "base": None, "events": None, "nan": None, "ci": [1.2, 2.3], "ci_small": None}
    assert out.not_estimable == {"nan": "all equal"}
    assert out.suppressed == ["base", "ci_small", "events"]


@pytest.mark.parametrize("n,decimals", [(8, 0), (12, 0), (13, 1), (97, 1), (101, 1), (103, 2), (5000, 2)])
def test_a_mean_of_whole_numbers_carries_what_its_base_can_hide(n, decimals):
    assert Rules.default().mean_decimals(n, 2) == decimals


def test_mean_of_whole_numbers_cannot_pin_down_its_base(rel):
    # 61 / 9 = 6.777...: to 2 decimals (6.78) only n = 9 of 8..12 fits a whole-number sum; to 0 it cannot
    out = rel.publish({"n": rel.count(9), "mean": rel.mean(61 / 9, 9), "ci": rel.interval(5.123, 8.456, 9,
                                                                                             whole_numbers=True)})
    assert out.data == {"n": 10, "mean": 7.0, "ci": [5.0, 8.0]}
    fits = [m for m in range(8, 13) if any(round(s / m, 0) == out.data["mean"] for s in range(0, 11 * m))]
    assert len(fits) > 1


def test_derived_figures_follow_their_inputs(rel):
    a, b = rel.count(40), rel.count(3)
    out = rel.publish({"sum": rel.derived(lambda x, y: x + y, a, a), "hidden": rel.derived(lambda x: x * 2, b),
                       "none": rel.derived(lambda x: None, a, reason="no target")})
    assert out.data == {"sum": 80, "hidden": None, "none": None}
    assert out.not_estimable == {"none": "no target"}


def test_switched_off_publishes_exact_values():
    rel = Release(DisclosureSettings(enabled=False))
    total = rel.cell(11)
    parts = rel.split(total, {"a": 3, "b": 8})
    out = rel.publish({"n": rel.count(total), "parts": rel.counts(parts), "p": rel.pct(parts["a"], total),
                       "m": rel.mean(61 / 9, 9)})
    assert out.data == {"n": 11, "parts": {"a": 3, "b": 8}, "p": 27.3, "m": 6.78}
    assert out.suppressed == []


def test_top_items_never_name_a_small_count(rel):
    top = rel.top({"a": 50, "b": 20, "c": 9, "d": 3, "e": 2}, n=3)
    assert top == {"a": 50, "b": 20, "all other": 14}
    assert rel.top({"a": 50, "b": 3}, n=3) == {"all other": 53}


# ---------------------------------------------------------------------------------- curves
def _cohort(rng, n=400):
    t_event = rng.exponential(120, n).round()
    t_death = rng.exponential(400, n).round()
    t_cens = rng.integers(20, 200, n).astype(float)
    t = np.minimum.reduce([t_event, t_death, t_cens])
    status = np.where(t == t_event, 1, np.where(t == t_death, 2, 0))
    return t, status


def test_curve_steps_hold_whole_steps_of_events():
    rng = np.random.default_rng(1)
    t, s = _cohort(rng)
    rel = Release()
    n = rel.cell(len(t))
    curve = rel.curve(t, s, (1, 2), n)
    tab = curve.table
    for k in (1, 2):
        cum = tab[f"d_{k}"].cumsum().to_numpy()
        assert set(np.diff(np.concatenate([[0], cum]))) <= {0, 5, 10}
        assert all(c == 0 or (c - 5) % 10 == 0 for c in cum)
    # the cumulative incidence back-solves to those rounded counts: every first step is 5 events on the
    # rounded cohort of 400 (n_risk from rounded counts), never an exact small number
    days = sorted({7 * i for i in range(1, 20)})
    out = rel.publish({str(d): curve.cif(1, d) for d in days} | {"n": rel.count(n)})
    assert out.data["n"] == 400
    assert out.data["7"] is not None


def test_curve_estimates_come_from_rounded_counts_only():
    # two cohorts with different exact events but the same rounded ones publish the same curve
    t1 = np.array([1] * 6 + [2, 5, 5, 9, 9, 9] + [30, 40, 50] + [100] * 85, dtype=float)
    s1 = np.array([1] * 12 + [0] * 88)
    t2, s2 = t1.copy(), s1.copy()
    s2[11] = 0  # one fewer event at day 9: 11 events by day 9 instead of 12, both published as 15
    figs = []
    for t, s in ((t1, s1), (t2, s2)):
        rel = Release()
        c = rel.curve(t, s, (1,), rel.cell(len(t)))
        figs.append(rel.publish([c.cif(1, d) for d in (9, 20, 60)] + [c.events(1, 9), c.cif(1, 1)]).data)
    assert figs[0] == figs[1]
    assert figs[0][3] == 15 and figs[0][0] == 15.0  # 15 of the rounded 100
    assert figs[0][4] is None  # 6 events by day 1: a small number, withheld


def test_curve_horizon_past_follow_up_or_with_few_at_risk_is_not_estimable():
    t = np.array([3, 5, 8, 10, 12, 20, 25, 30, 33, 39] * 3, dtype=float)
    s = np.array([1, 0, 1, 0, 1, 0, 1, 0, 0, 0] * 3)
    rel = Release()
    c = rel.curve(t, s, (1,), rel.cell(len(t)))
    out = rel.publish({"d14": c.cif(1, 13), "d90": c.cif(1, 89), "ci90": c.ci(1, 89), "d38": c.cif(1, 38)})
    assert out.data["d14"] is not None and out.data["d90"] is None and out.data["ci90"] is None
    assert "past the longest follow-up" in out.not_estimable["d90"]
    assert "fewer than 8 people still followed" in out.not_estimable["d38"]


def test_curve_of_a_small_cohort_is_withheld():
    rel = Release()
    c = rel.curve([1, 2, 3, 4, 5, 6, 7], [1, 1, 0, 1, 0, 0, 1], (1,), rel.cell(7))
    out = rel.publish({"cif": c.cif(1, 3), "at_risk": c.at_risk(0)})
    assert out.data == {"cif": None, "at_risk": None}


def test_curve_interval_with_no_events_is_one_sided():
    t = np.arange(100, dtype=float)
    s = np.zeros(100, dtype=int)
    s[60:] = 1
    rel = Release()
    c = rel.curve(t, s, (1,), rel.cell(100))
    out = rel.publish({"ci": c.ci(1, 10), "cif": c.cif(1, 10)})
    assert out.data["cif"] == 0.0
    lo, hi = out.data["ci"]
    assert lo == 0.0 and 0 < hi < 10


# ---------------------------------------------------------------------------------- the statement
def test_statement_counts_each_rule():
    rel = Release()
    total = rel.cell(55)
    parts = rel.split(total, {"a": 40, "b": 12, "c": 3})
    out = rel.publish({"parts": rel.counts(parts), "p": rel.pct(parts["a"], total), "m": rel.estimate(1.0, 3)})
    st = statement(rel.rules, out.rules_applied())
    assert st["figures"]["count"] == 1 and st["figures"]["small_count"] == 1 and st["figures"]["secondary"] == 1
    assert st["figures"]["small_base"] == 1 and st["figures_withheld"] == 3 and st["figures_published"] == 2
    text = markdown(st)
    assert "Withheld: a count of 1 to 7: 1 figure" in text and "2 figures were published and 3 withheld" in text


def test_a_cell_pinned_down_through_a_chain_of_sums_is_protected(rel):
    # B (3) is small; T = A + B with T and A hidden too, but T = T1 + T2 and A = A1 + A2 are published,
    # so T - A pins B down through two other tables: one more cell of that chain must be hidden
    t = rel.cell(100)
    ab = rel.split(t, {"A": 97, "B": 3})
    t12 = rel.split(t, {"T1": 60, "T2": 40})
    a12 = rel.split(ab["A"], {"A1": 50, "A2": 47})
    out = rel.publish({"T1": rel.count(t12["T1"]), "T2": rel.count(t12["T2"]), "A1": rel.count(a12["A1"]),
                       "A2": rel.count(a12["A2"]), "B": rel.count(ab["B"])})
    assert out.data["B"] is None
    shown = [k for k in ("T1", "T2", "A1", "A2") if out.data[k] is not None]
    assert len(shown) < 4  # with all four published, B = T1 + T2 - A1 - A2 exactly


def test_a_percentage_too_small_to_publish_reveals_nothing(rel):
    # a share on 5 people is never published, so its numerator is not a published cell: the group
    # needs no second cell hidden for it
    total = rel.cell(40)
    parts = rel.split(total, {"a": 35, "b": 5})
    out = rel.publish({"a": rel.count(parts["a"]), "total": rel.count(total),
                       "b_of_5": rel.pct(parts["b"], rel.cell(5))})
    assert out.data == {"a": None, "total": 40, "b_of_5": None}  # b hidden (small), so a goes too


def test_given_withholds_a_groups_statistic_with_its_count(rel):
    total = rel.cell(60)
    groups = rel.split(total, {"x": 55, "y": 5})
    out = rel.publish({"n": rel.counts(groups), "total": rel.count(total),
                       "mean_y": rel.given(rel.mean(3.2, base=20), groups["y"]),
                       "mean_x": rel.given(rel.mean(2.1, base=55), groups["x"]),
                       "fte": rel.fact(1.23456, decimals=2)})
    assert out.data["mean_y"] is None and out.data["mean_x"] is None  # x is hidden with y (secondary)
    assert out.data["fte"] == 1.23


def test_a_partial_derived_figure_sees_withheld_inputs_as_a_reader_does(rel):
    total = rel.cell(60)
    parts = rel.split(total, {"a": 55, "b": 5})
    out = rel.publish({"n": rel.counts(parts), "total": rel.count(total),
                       "seen": rel.derived(lambda a, b: [a, b], *rel.counts(parts).values(), partial=True),
                       "all": rel.derived(lambda a, b: [a, b], *rel.counts(parts).values())})
    # b is small; a or the total goes with it (secondary): a reader sees a withheld input as None
    assert out.data["seen"][1] is None and out.data["all"] is None
    assert (out.data["seen"][0] is None) != (out.data["total"] is None)


# ---------------------------------------------------------------------------------- across sections

def _repeat_total(withheld):
    """A section repeating another's referral total (200) beside its own split of it."""
    rel = Release(withheld_elsewhere=withheld)
    total = rel.same_as(200, "activity.referrals", "referrals")
    parts = rel.split(total, {"north": 120, "south": 80})
    return rel.publish({"referrals": rel.count(total), "by_pcn": rel.counts(parts),
                        "south_pct": rel.pct(parts["south"], total)})


def test_a_count_withheld_in_another_section_is_withheld_here_and_protected():
    shown = _repeat_total(set())
    assert shown.data == {"referrals": 200, "by_pcn": {"north": 120, "south": 80}, "south_pct": 40.0}
    hidden = _repeat_total({"activity.referrals", "activity.something_else"})
    # hidden with the rule that says why, and one part with it: otherwise the parts add up to it
    assert hidden.data["referrals"] is None and hidden.data["south_pct"] is None
    assert sorted(v is None for v in hidden.data["by_pcn"].values()) == [False, True]
    rules = {e.path: e.rule for e in hidden.ledger}
    assert rules["referrals"] == "elsewhere" and "secondary" in rules.values()
    assert hidden.rules_applied()["elsewhere"] == 1
