"""Attack f: numbers shown in the report that ``results.json`` does not publish.

``results.json`` is what passed disclosure control; the HTML, the executed notebooks and the
tables offered as CSV downloads are meant to show nothing else. The attack reads every number a
reader sees in the notebooks' outputs (tables, text, printed output; not pictures, not the code or
markdown sources), in ``index.html`` (visible text only) and in any other published text file, and
traces it to ``results.json``: to a value (allowing thousands separators, a sign, a percent sign,
fewer decimals and a percentage's complement), to a number inside one of its keys or strings, or
to the number of entries of a published table. Numbers that are part of the report's own template
(its markdown and code, read with the words around them) are not data, and neither is a figure a
reader can work out from published numbers printed beside it. Whatever is left is shown but not
published (``shown_but_withheld``), reported with the words around it.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from collections.abc import Iterator
from typing import Any

from .findings import SHOWN_BUT_WITHHELD, Finding
from .published import Published

ATTACK = "numbers not in results.json"
MAX_DECIMALS = 10
# a number standing alone: not part of a word, a code (F86760, 05ef878) or a longer number
NUMBER = re.compile(r"(?<![\w.\-/:#%])[-+\u2212]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w.]\d)(?![\w])"
                    r"|(?<![\w.\-/:#])[-+\u2212]?\d+(?:\.\d+)?(?![\w])(?!\.\d)")
# ranges, dates, fiscal years, versions: checked whole against results.json's own text
COMPOUND = re.compile(r"(?<![\w.,])(?:\d+(?:[-/:\u2013]\d+)+|\d+\.\d+(?:\.\d+)+)(?![\w])")
TAG = re.compile(r"<[^>]+>")
DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+")
MARKUP = re.compile(r"[*`#>|\[\]]|\]\([^)]*\)")


def _text_of_html(h: str) -> str:
    h = DATA_URI.sub(" ", h)
    h = re.sub(r"(?is)<(script|style|head|nav)\b.*?</\1>", " ", h)
    return " ".join(html_lib.unescape(TAG.sub(" ", h)).split())


def _text_of_csv(text: str) -> str:
    """A CSV's cells, one after another (a quoted "7,157.65" stays one number)."""
    return "\n".join(" ; ".join(row) for row in csv.reader(io.StringIO(text)))


def _normal(text: str) -> str:
    return " ".join(MARKUP.sub(" ", html_lib.unescape(text)).replace("\u2212", "-").split())


class _Published:
    """Every number ``results.json`` holds, in every precision a report may show it."""

    def __init__(self, results: dict[str, Any]):
        self.values: set[tuple[int, float]] = set()
        self.words: set[str] = set()
        self._walk(results)

    def _add_number(self, y: float, pct: bool = False) -> None:
        for k in range(MAX_DECIMALS + 1):
            for v in (y, 100 - y) if pct else (y,):  # a share's complement is published with it
                self.values.add((k, round(v, k)))
                self.values.add((k, round(-v, k)))

    def _add_text(self, s: str) -> None:
        s = s.replace("\u2212", "-")
        for m in COMPOUND.finditer(s):
            self.words.add(m.group())
            for part in re.split(r"[-/:.\u2013]", m.group()):  # 2024-03-31 is also "31 March 2024"
                self._add_number(float(part))
        for m in NUMBER.finditer(s):
            self._add_number(_value(m.group()))

    def _walk(self, o: Any, pct: bool = False) -> None:
        if isinstance(o, dict):
            self._add_number(float(len(o)))  # "in 13 of 36 months": the rows of a published table
            for k, v in o.items():
                self._add_text(str(k))
                self._walk(v, pct or "pct" in str(k))
        elif isinstance(o, list):
            self._add_number(float(len(o)))  # "126 figures are suppressed": the length of a published list
            for v in o:
                self._walk(v, pct)
        elif isinstance(o, bool) or o is None:
            return
        elif isinstance(o, (int, float)):
            self._add_number(float(o), pct and isinstance(o, float) and 0 <= o <= 100)
        elif isinstance(o, str):
            self._add_text(o)

    def has(self, token: str) -> bool:
        x = _value(token)
        k = len(token.split(".")[1]) if "." in token else 0
        return (k, round(x, k)) in self.values or (k, round(-x, k)) in self.values


def _value(token: str) -> float:
    return float(token.replace(",", "").replace("\u2212", "-").lstrip("+"))


def _outputs(nb: dict[str, Any]) -> Iterator[str]:
    """The visible text of a notebook's outputs (no pictures, no sources)."""
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "stream":
                if out.get("name") != "stderr":
                    yield "".join(out.get("text", ""))
                continue
            data = out.get("data", {})
            if "text/html" in data:
                yield _text_of_html("".join(data["text/html"]))
            elif "text/markdown" in data:
                yield _normal("".join(data["text/markdown"]))
            elif "text/plain" in data:
                text = "".join(data["text/plain"])
                if not text.startswith("<"):  # reprs like <Figure size 1100x430 with 2 Axes>
                    yield text


def template_text(report: Published) -> str:
    """The report's template: its notebooks' markdown and code, normalised."""
    parts = []
    for nb in report.notebooks.values():
        for cell in nb.get("cells", []):
            parts.append(_normal("".join(cell.get("source", ""))))
    return "\n".join(parts)


def _in_template(text: str, start: int, end: int, template: str) -> bool:
    """Is this number, read with a word or two either side, written in the template? (A
    threshold such as ``<0.001`` counts when the template writes it; a number of thousands with the
    one word before it, such as ``per 100,000``, is a unit.)"""
    if start and text[start - 1] in "<>\u2264\u2265" and text[start - 1:end] in template:
        return True
    left = text[max(0, start - 40):start].split()
    right = text[end:end + 40].split()
    num = text[start:end]
    combos = ((1, 1), (2, 0), (0, 2), (3, 0), (0, 3))
    if "," in num:  # a unit written out in the template: "per 100,000", "per 1,000"
        combos = ((1, 0), *combos)
    for lw, rw in combos:
        if (lw and len(left) < lw) or (rw and len(right) < rw):
            continue
        snippet = " ".join(left[len(left) - lw:] + [num] + right[:rw]) if lw else " ".join([num] + right[:rw])
        if (lw or rw) and snippet in template:
            return True
    return False


NEARBY = 160  # characters either side within which a figure may be worked out from the figures shown


def _derived(token: str, near: list[float]) -> bool:
    """Can a reader work this number out from published numbers printed beside it (a sum,
    difference, ratio or percentage of two of them)?"""
    x, k = _value(token), len(token.split(".")[1]) if "." in token else 0
    for a in near:
        for b in near:
            cands = [a + b, a - b]
            if b:
                cands += [a / b * 100, (a / b - 1) * 100, a / b]
            if any(abs(round(c, k) - x) < 1e-9 for c in cands):
                return True
    return False


def untraceable(text: str, pub: _Published, template: str) -> Iterator[tuple[str, str]]:
    """(number, context) for every number in ``text`` that results.json does not hold and that
    cannot be worked out from the published numbers beside it."""
    text = _normal(text)
    taken = []
    for m in COMPOUND.finditer(text):
        taken.append((m.start(), m.end()))
        if m.group() not in pub.words and not _in_template(text, m.start(), m.end(), template) \
                and not all(pub.has(p) for p in re.split(r"[-/:\u2013]", m.group()) if p):
            yield m.group(), text[max(0, m.start() - 50):m.end() + 50]
    numbers = [m for m in NUMBER.finditer(text) if not any(a <= m.start() < b for a, b in taken)]
    traced = [(m.start(), _value(m.group().rstrip("%"))) for m in numbers if pub.has(m.group().rstrip("%"))]
    for m in numbers:
        tok = m.group().rstrip("%")
        if pub.has(tok) or _in_template(text, m.start(), m.end(), template):
            continue
        near = [v for at, v in traced if abs(at - m.start()) <= NEARBY]
        if not _derived(tok, near):
            yield m.group(), text[max(0, m.start() - 50):m.end() + 50]


def attack(report: Published) -> list[Finding]:
    findings = []
    for rep in report.every():
        pub = _Published(rep.results)
        template = template_text(rep)
        seen: set[tuple[str, str]] = set()
        sources = [(rep.file(f"notebooks/{name}"), t) for name, nb in rep.notebooks.items() for t in _outputs(nb)]
        if rep.html:
            sources.append((rep.file("index.html"), _text_of_html(rep.html)))
        sources += [(rep.file(name), _text_of_csv(text)) for name, text in rep.files.items()]
        for file, text in sources:
            for number, context in untraceable(text, pub, template):
                if (number, context) in seen:
                    continue
                seen.add((number, context))
                findings.append(Finding(ATTACK, SHOWN_BUT_WITHHELD, file, (file,), {"number": number, "context": context},
                                        f"'{number}' is shown ('...{context}...') but results.json has no such figure."))
    return findings
