"""The layer's last check (:mod:`pipeline.disclosure.bounds`): hidden cells a reader can squeeze
with rounding windows and "a withheld count is at least 1", not only solve."""

from pipeline.config import DisclosureSettings
from pipeline.disclosure import bounds
from pipeline.disclosure.cells import Cell, Group, hidden_cells
from pipeline.disclosure.rules import Rules

RULES = Rules(DisclosureSettings())


def test_twelve_withheld_months_under_a_published_total_of_about_twelve():
    """Each month holds 1 referral: withheld, but under a published 10 (8..12) twelve months that
    are each at least 1 are each exactly 1. The linear audit cannot see it; the bounds can."""
    months = [Cell(1, f"m{i}") for i in range(12)]
    total = Cell(12, "referrals")
    g = Group(total, tuple(months))
    shown = {total, *months}
    hidden = {m: "small_count" for m in months}
    assert {c for c, _ in bounds.exposed([g], shown, hidden, RULES)} == set(months)
    decided = hidden_cells(shown, [g], shown, RULES)
    assert total in decided  # the total goes too
    assert bounds.exposed([g], shown, decided, RULES) == []


def test_a_count_published_within_a_hidden_one_bounds_it_from_below():
    """60 escalations at red reviews (published) within 61 red reviews (hidden): with the rest
    never published and a row that caps the red reviews, the bounds say 58..62 at best."""
    red, esc = Cell(61, "reviews.red"), Cell(60, "escalations.red")
    rest = Cell(1, "not_escalated.red")
    shown = {red, esc}
    assert bounds.too_narrow(red, 58, 62, RULES) and not bounds.too_narrow(red, 58, 63, RULES)
    assert not bounds.too_narrow(rest, 0, 3, RULES, published=False)  # never shown: 0..3 says nothing
    assert bounds.too_narrow(rest, 1, 3, RULES, published=False)  # but "small" it must not be shown to be
    # with no upper bound on the red reviews nothing is exposed
    assert bounds.exposed([Group(red, (esc, rest))], shown, {red: "secondary", rest: "small_count"}, RULES) == []


def test_published_counts_are_read_as_their_rounding_windows():
    assert bounds.cell_bounds(Cell(13), {Cell(13)}, {}, RULES) == (0.0, float("inf"))  # not shown: anything
    c = Cell(13)
    assert bounds.cell_bounds(c, {c}, {}, RULES) == (13.0, 17.0)  # published 15
    z, ten = Cell(0), Cell(9)
    assert bounds.cell_bounds(z, {z}, {}, RULES) == (0.0, 0.0)
    assert bounds.cell_bounds(ten, {ten}, {}, RULES) == (8.0, 12.0)  # 10, and never 1..7
    assert bounds.cell_bounds(ten, {ten}, {ten: "secondary"}, RULES) == (1.0, float("inf"))
