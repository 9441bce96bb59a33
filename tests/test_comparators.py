"""'Compared with London' markers in a borough report, from the London comparison's results.json."""

import json

from pipeline import comparators

ROW = {"label": "Appointments missed or cancelled", "unit": "%", "london_value": 31.1, "value": 45.0,
       "position": {"95": "above", "99.8": "above"}, "limits": {"95": [29.5, 32.8], "99.8": [28.5, 33.8]},
       "position_overdispersion_adjusted": {"95": "above", "99.8": "within"}}


def _london(reports, sha="a" * 64, boroughs=("merton", "sutton")):
    (reports / "london").mkdir(parents=True)
    rows = {"dna_or_cancelled": ROW,
            "readmission_30d": {"label": "Emergency readmission within 30 days", "unit": "%", "london_value": 12.0,
                                "value": None, "position": None, "reason": "readmission not run"}}
    (reports / "london" / "results.json").write_text(json.dumps({
        "boroughs": list(boroughs), "synthetic": True, "comparators": {"merton": rows},
        "provenance": {"build_time": "2026-12-04T10:00:00Z",
                       "inputs": {"merton": {"extract_sha256": sha}, "sutton": {"extract_sha256": "b" * 64}}}}))


def test_markers_are_shapes_and_words_not_colour_alone():
    assert comparators.marker({"95": "above", "99.8": "above"}) == "▲ higher than London (outside the 99.8% limits)"
    assert comparators.marker({"95": "below", "99.8": "within"}) == "▼ lower than London (outside the 95% limits only)"
    assert comparators.marker({"95": "within", "99.8": "within"}) == "● similar to London"


def test_a_compared_borough_gets_its_markers(tmp_path):
    _london(tmp_path)
    c = comparators.for_borough("merton", "a" * 64, tmp_path)
    md = comparators.markdown(c)
    assert "## Compared with London" in md and "comparison of 2 boroughs" in md and "synthetic data" in md
    assert "| Appointments missed or cancelled | 45.0% | 31.1% | ▲ higher than London (outside the 99.8% limits) |" in md
    assert "| Emergency readmission within 30 days | [c] | 12.0% | not compared: readmission not run |" in md


def test_no_comparison_no_markers_and_an_old_one_is_called_out_of_date(tmp_path):
    assert comparators.for_borough("merton", "a" * 64, tmp_path) is None  # no London comparison built
    _london(tmp_path, boroughs=("sutton",))
    assert comparators.for_borough("merton", "a" * 64, tmp_path) is None  # merton not in it
    (tmp_path / "london" / "results.json").unlink()
    (tmp_path / "london").rmdir()
    _london(tmp_path, sha="c" * 64)
    c = comparators.for_borough("merton", "a" * 64, tmp_path)
    assert c.rows == [] and "earlier extract" in comparators.markdown(c)
