"""Rendering: the nbconvert fallback (offline, no code, images embedded) and the Quarto command
contract through a fake ``quarto`` on PATH that records its arguments."""

import json
import os
import re
import shutil
import stat
import textwrap

import nbformat
import pytest
from conftest import make_executed_notebook

from pipeline import render
from pipeline.render import RenderError, ReportMeta, combine, render_html_fallback


@pytest.fixture
def notebooks(tmp_path):
    return [make_executed_notebook(tmp_path / "20_a.ipynb", "Activities"),
            make_executed_notebook(tmp_path / "40_b.ipynb", "Wellbeing")]


def test_combine_keeps_order_and_drops_parameters_and_warnings(notebooks):
    nb = combine(notebooks)
    text = json.dumps(nb)
    assert text.index("Activities") < text.index("Wellbeing")
    assert "borough = 'tiny'" not in text and "borough = 'merton'" not in text
    assert "noisy warning" not in text


def test_fallback_html_has_no_code_no_external_requests_and_embedded_images(notebooks, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    meta = ReportMeta(title="SP evaluation: Tiny", subtitle="extract", banners=["SYNTHETIC DATA: test"],
                      provenance_md="## Methods and provenance\n\n- inputs sha256 `abc`")
    rendered = render_html_fallback(combine(notebooks), meta, out)
    assert rendered.renderer == "nbconvert" and rendered.files == ["index.html"]
    html = (out / "index.html").read_text()
    assert "SECRET_CODE_MARKER" not in html, "code cells must not be shown"
    assert "---" not in html.split("<body>")[1][:200], "no leaked front matter"
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "no external resources"
    assert "@import" not in html and "url(http" not in html
    imgs = re.findall(r"<img[^>]+src=\"([^\"]+)\"", html)
    assert imgs and all(s.startswith("data:image/png;base64,") for s in imgs)
    assert html.count("SYNTHETIC DATA: test") >= 1
    # table of contents links resolve to headings
    for target in re.findall(r'<a href="#([^"]+)"', html):
        assert f'id="{target}"' in html
    assert "Methods and provenance" in html


FAKE_QUARTO = textwrap.dedent("""\
    #!/usr/bin/env python3
    import json, os, sys, pathlib
    log = pathlib.Path(os.environ["FAKE_QUARTO_LOG"])
    with log.open("a") as f:
        f.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
    if sys.argv[1:] == ["--version"]:
        print("1.6.40"); sys.exit(0)
    args = sys.argv[1:]
    assert args[0] == "render"
    src = pathlib.Path(args[1])
    nb = json.loads(src.read_text())
    first = nb["cells"][0]
    assert first["cell_type"] == "raw" and "".join(first["source"]).startswith("---")
    fmt = args[args.index("--to") + 1]
    out = pathlib.Path(args[args.index("--output-dir") + 1])
    out.mkdir(parents=True, exist_ok=True)
    ext = {"html": "html", "typst": "pdf", "docx": "docx"}[fmt]
    if os.environ.get("FAKE_QUARTO_FAIL") == fmt:
        print("ERROR: boom", file=sys.stderr); sys.exit(1)
    (out / f"report.{ext}").write_text(f"rendered {fmt}")
""")


@pytest.fixture
def fake_quarto(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    q = bindir / "quarto"
    q.write_text(FAKE_QUARTO)
    q.chmod(q.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "quarto.log"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_QUARTO_LOG", str(log))
    return log


def test_quarto_command_contract(notebooks, tmp_path, fake_quarto):
    out = tmp_path / "out"
    out.mkdir()
    meta = ReportMeta(title="T", subtitle="S", banners=["SYNTHETIC DATA"])
    rendered = render.render(combine(notebooks), meta, out, tmp_path / "work")
    assert rendered.renderer == "quarto" and rendered.version == "1.6.40"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "report.docx", "report.pdf"]
    calls = [json.loads(line)["argv"] for line in fake_quarto.read_text().splitlines()]
    renders = [c for c in calls if c[0] == "render"]
    assert [c[c.index("--to") + 1] for c in renders] == ["html", "typst", "docx"]
    for c in renders:
        assert c[1] == "report.ipynb" and "--no-execute" in c and "--output-dir" in c
    front = nbformat.read(tmp_path / "work" / "report.ipynb", as_version=4).cells[0].source
    assert "embed-resources: true" in front and "typst" in front and "docx" in front
    assert "enabled: false" in front and "echo: false" in front


def test_quarto_failure_is_an_error(notebooks, tmp_path, fake_quarto, monkeypatch):
    monkeypatch.setenv("FAKE_QUARTO_FAIL", "typst")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RenderError, match="typst"):
        render.render(combine(notebooks), ReportMeta("T", "S"), out, tmp_path / "work")


def test_require_quarto_fails_when_absent(notebooks, tmp_path, monkeypatch):
    monkeypatch.setattr(render, "quarto_path", lambda: None)
    monkeypatch.setenv("REQUIRE_QUARTO", "1")
    with pytest.raises(RenderError, match="REQUIRE_QUARTO"):
        render.render(combine(notebooks), ReportMeta("T", "S"), tmp_path, tmp_path / "w")
    monkeypatch.setenv("REQUIRE_QUARTO", "0")
    assert render.render(combine(notebooks), ReportMeta("T", "S"), tmp_path, tmp_path / "w").renderer == "nbconvert"


@pytest.mark.skipif(shutil.which("quarto") is None,
                    reason="Quarto is not installed here (conda-forge only); the fake-quarto tests cover its command contract")
def test_real_quarto_renders_all_formats(notebooks, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    rendered = render.render_quarto(combine(notebooks), ReportMeta("T", "S", ["SYNTHETIC DATA"]), out, tmp_path / "w")
    assert {"index.html", "report.pdf", "report.docx"} <= {p.name for p in out.iterdir()}
    html = (out / "index.html").read_text()
    assert "SECRET_CODE_MARKER" not in html
    assert not re.search(r"""<script[^>]+src=["']https?://""", html)
    assert rendered.renderer == "quarto"


def test_a_section_without_its_data_shows_one_note_not_a_skeleton(tmp_path):
    import nbformat

    from pipeline.render import combine

    nb = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("sec = nb.section(...)")
    setup.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": "**GP appointments: not available.** This extract has no `gp_appointments` table.",
        "text/plain": "x"}, metadata={"sp-section": {"name": "gp_appointments", "status": "not_run"}})]
    later = nbformat.v4.new_code_cell("if ran: ...")
    nb.cells = [nbformat.v4.new_markdown_cell("# GP appointments\n\nWhat this shows."), setup,
                nbformat.v4.new_markdown_cell("## Event study"), later, nbformat.v4.new_markdown_cell("## Reading")]
    nbformat.write(nb, tmp_path / "60_gp.ipynb")
    full = make_executed_notebook(tmp_path / "20_a.ipynb", "Activities")
    out = combine([full, tmp_path / "60_gp.ipynb"], unavailable={"60_gp"})
    md = "\n".join(c.source for c in out.cells if c.cell_type == "markdown")
    assert "# GP appointments" in md and "## Event study" not in md and "## Reading" not in md
    assert "## A subsection" in md  # a section with its data keeps its sub-headings
    # the note is found by its metadata, never by its words: a notebook that runs keeps everything
    md = "\n".join(c.source for c in combine([tmp_path / "60_gp.ipynb"]).cells if c.cell_type == "markdown")
    assert "## Event study" in md
