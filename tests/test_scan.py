"""The scanner itself must be able to fail."""

from scan import small_counts_in_html, small_counts_in_json


def test_json_small_counts_found_and_non_counts_ignored():
    res = {"activity": {"referrals": 5, "patients": 10, "pct": 5.0},
           "workforce_regression": {"seed_models": {"rows": [{"row": 3}]}},
           "disclosure_control": {"min_count": 8, "rounding": 5}, "contract_version": 1}
    assert small_counts_in_json(res) == ["activity.referrals=5"]


def test_html_small_counts_found_in_value_cells_only():
    html = "<table><tr><td>3</td><td>10</td></tr><tr><td>male</td><td>4</td></tr><tr><td>x</td><td>4.5</td></tr></table>"
    assert small_counts_in_html(html) == ["cell '4' in row ['male', '4']"]
