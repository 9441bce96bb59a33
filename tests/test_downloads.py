"""Every table and chart's numbers, downloadable from the report and as files with a dictionary."""

import base64
import re

import nbformat
import pandas as pd
import pytest

from pipeline import downloads, nb


def _report():
    book = nbformat.v4.new_notebook()
    table = nb.table(pd.DataFrame({"Month": ["2023-04", "2023-05"], "Referrals": [120, None]}, dtype=object))
    chart = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "fig",
                                                          "text/csv": "Month,Referrals\n2023-04,120\n"})
    cells = [nbformat.v4.new_markdown_cell("# Activities\n\n## Referrals by month"),
             nbformat.v4.new_code_cell("t"), nbformat.v4.new_markdown_cell("## Trend"), nbformat.v4.new_code_cell("c")]
    cells[1].outputs = [nbformat.v4.new_output("display_data", data=table._repr_mimebundle_())]
    cells[3].outputs = [chart]
    for c in cells:
        c.metadata[downloads.SOURCE] = "20_activity"
    book.cells = cells
    return book


def test_a_table_carries_its_published_values_as_csv():
    df = pd.DataFrame({"Group": ["a", "b"], "n": [10, None], "%": [12.5, None]}, dtype=object)  # as notebooks build them
    bundle = nb.table(df)._repr_mimebundle_()
    assert bundle["text/csv"] == "Group,n,%\na,10,12.5\nb,[c],[c]\n"
    assert "[c]" in bundle["text/html"]


def test_downloads_are_named_linked_offline_and_written_with_a_dictionary(tmp_path):
    book = _report()
    found = downloads.name(book)
    assert [(d.file, d.kind, d.caption) for d in found] == [
        ("20_activity-01-referrals-by-month.csv", "table", "Referrals by month"),
        ("20_activity-02-trend.csv", "chart", "Trend")]
    downloads.add_links(book)
    link = book.cells[1].outputs[1]["data"]["text/html"]
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', link).group(1)
    assert base64.b64decode(href).decode() == found[0].csv  # the file travels in the link: no request
    assert 'download="20_activity-01-referrals-by-month.csv"' in link and "Download this table" in link
    assert "Download the numbers in this chart" in book.cells[3].outputs[1]["data"]["text/html"]
    downloads.write(found, tmp_path / "tables", "Merton")
    assert (tmp_path / "tables" / "20_activity-01-referrals-by-month.csv").read_text() == found[0].csv
    readme = (tmp_path / "tables" / "README.md").read_text()
    assert "## 20_activity-01-referrals-by-month.csv" in readme and "| Referrals | numbers ([c] where withheld) |" in readme
    assert "| Month | text" in readme and "disclosure control" in readme


def test_a_chart_must_carry_its_numbers(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import IPython.display
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [10, 0])
    with pytest.raises(TypeError):
        nb.show(fig, alt="bars")  # no data=: a chart with nothing to tabulate is a bug
    with pytest.raises(TypeError):
        nb.show(fig, alt="bars", data=None)
    nb.show(fig, alt="bars", data=pd.DataFrame({"Group": ["a", "b"], "n": [10, None]}, dtype=object))
    assert shown[0]["text/csv"] == "Group,n\na,10\nb,[c]\n" and shown[0]["image/png"]
