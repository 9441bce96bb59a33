"""The HTML checked as a person sees it: headless Chromium (Debian's `chromium`) opens each built
report from disk with the network blocked (pipeline/browser.py) and we assert that it loads, logs no
console errors, sends no request off the machine, renders every image and resolves every
table-of-contents link; and that it meets WCAG 2.2 AA as far as a machine can tell: axe-core (npm
`axe-core`, pinned in package.json) finds no serious or critical violation, every image has
alternative text that says what it shows, every chart has its numbers as a table, and headings never
skip a level. `make screenshot` saves the first screen for the docs."""

import struct

import pytest

from pipeline.browser import BrowserError, axe_source, check_page, chromium_path


def _axe_installed() -> bool:
    try:
        axe_source()
    except BrowserError:
        return False
    return True


needs_axe = pytest.mark.skipif(not _axe_installed(),
                               reason="axe-core is not installed (npm install; .ci/run installs it)")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(chromium_path() is None,
                       reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)"),
]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def assert_reads_cleanly(page):
    assert page.loaded and page.text_chars > 500
    assert page.problems() == []
    assert page.images and all(i["width"] > 0 and i["height"] > 0 for i in page.images)
    assert len(page.toc_links) >= 3


def test_borough_report_as_a_person_sees_it(site):
    page = check_page(site.report("tiny") / "index.html")
    assert_reads_cleanly(page)
    assert page.title.startswith("Social prescribing evaluation")
    assert {"#executive-summary", "#methods-and-provenance"} <= set(page.toc_links)
    assert all(u.startswith("file://") for u in page.local_requests)
    assert png_size(page.screenshot) == (1280, 800)


def test_activity_only_report_reads_cleanly(site):
    page = check_page(site.report("activity-only") / "index.html", screenshot=False)
    assert_reads_cleanly(page)


def test_london_comparison_as_a_person_sees_it(site):
    page = check_page(site.report("london") / "index.html", screenshot=False)
    assert_reads_cleanly(page)
    assert len(page.images) == 8  # one funnel plot per indicator


@needs_axe
@pytest.mark.parametrize("report", ["tiny", "activity-only", "london"])
def test_reports_are_accessible(site, report):
    page = check_page(site.report(report) / "index.html", screenshot=False, accessibility=True)
    assert page.accessibility_problems() == []
    assert page.headings[0] == 1


@needs_axe
def test_every_chart_in_a_borough_report_has_its_numbers_as_a_table(site):
    html = (site.report("tiny") / "index.html").read_text()
    charts = html.count("<img")
    assert charts and html.count('class="sp-chart-data"') == charts


@needs_axe
def test_the_accessibility_check_catches_what_it_should(tmp_path):
    page = tmp_path / "index.html"
    page.write_text("""<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body><main>
<h1>Report</h1><h3>Skipped a level</h3>
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">
<img alt="No description has been provided for this image" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">
<p style="color:#bbb;background:#fff">faint text</p></main></body></html>""")
    problems = check_page(page, screenshot=False, accessibility=True).accessibility_problems()
    text = "\n".join(problems)
    assert "image-alt (critical)" in text and "color-contrast (serious)" in text
    assert text.count("image without alternative text") == 2 and "heading level 3 follows level 1" in text


def test_make_screenshot_saves_the_first_screen(site):
    out = site.logs["screenshot"]
    assert out.returncode == 0, out.stderr
    shot = site.report("tiny") / "screenshot.png"
    assert png_size(shot.read_bytes()) == (1280, 800)
    assert "saved reports/tiny/screenshot.png" in out.stderr


def test_the_checker_catches_what_a_reader_would_meet(tmp_path):
    page = tmp_path / "index.html"
    page.write_text("""<!DOCTYPE html><html><head><title>bad</title>
<link rel="stylesheet" href="https://cdn.example.com/x.css"></head>
<body><nav><a href="#one">one</a> <a href="#missing">missing</a></nav><h2 id="one">One</h2>
<img src="https://example.com/a.png"><img src="nothere.png">
<script>console.error("boom"); fetch("http://192.0.2.1/beacon").catch(() => {});</script><p>text</p></body></html>""")
    rep = check_page(page, screenshot=False)
    assert set(rep.external_requests) >= {"https://cdn.example.com/x.css", "https://example.com/a.png",
                                          "http://192.0.2.1/beacon"}
    assert any("boom" in e for e in rep.console_errors)
    assert {i["src"] for i in rep.broken_images} == {"https://example.com/a.png", "nothere.png"}
    assert rep.broken_links == ["#missing"]
    assert len(rep.problems()) >= 7


def test_a_missing_report_is_a_message(tmp_path):
    with pytest.raises(BrowserError, match="build the report first"):
        check_page(tmp_path / "nope" / "index.html")
