"""The executive summary: the sections' own headline rows, then the caveats that matter."""

from pipeline.analyses import readmission
from pipeline.summary import caveats, markdown

RESULTS = {
    "synthetic": True,
    "suppressed": ["activity.x", "targets.y"],
    "disclosure_control": {"enabled": True, "rounding": 5, "min_base": 8},
    "gp_appointments": {"status": "not_run", "reason": "no gp_appointments table"},
}
READMISSION = {"n_index": 400, "cif_30d_pct": 9.5, "cif_30d_ci95": [6.9, 12.6], "benchmark_30d_pct": 12.6}


def test_a_section_writes_its_headlines_from_its_published_figures():
    (h,) = readmission.headlines(READMISSION)
    assert h.value == "9.5%" and "95% CI 6.9% to 12.6%" in h.reading and "of 400 supported" in h.reading
    assert "spell-based" in h.reading
    assert readmission.headlines(dict(READMISSION, cif_30d_pct=None)) == []


def test_caveats():
    text = " ".join(caveats(RESULTS))
    assert "Synthetic data" in text and "Uncontrolled design" in text
    assert "2 figures" in text and "gp appointments" in text
    off = dict(RESULTS, disclosure_control={"enabled": False})
    assert "NOT FOR PUBLICATION" in " ".join(caveats(off))


def test_markdown_is_a_table_of_the_sections_rows_with_caveats():
    rows = [vars(h) for h in readmission.headlines(READMISSION)]
    md = markdown(RESULTS, rows)
    assert md.startswith("# Executive summary") and "| Measure | Figure | Reading |" in md
    assert "| Emergency readmission within 30 days | 9.5% |" in md
    assert "**Caveats that matter**" in md
    assert "| Measure |" not in markdown(RESULTS, [])
