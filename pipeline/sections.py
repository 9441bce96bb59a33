"""The report's sections, each declared once.

A section is one ``SECTION = Section(...)`` in a module of :mod:`pipeline.analyses` (a module may
declare several as ``SECTIONS = (...)``). Everything that lists sections reads :func:`registry`:
``results.json`` (which sections, in what order), ``make validate`` ("sections this extract
supports"), the notebooks' opening call (:func:`pipeline.nb.section`), the report's rendering of a
section that cannot run, and the benchmark's reference run. Adding a section is adding a module
with its declaration and a notebook that opens with ``nb.section("<name>", ...)``
(``docs/adding-an-analysis.md``).

A section's life: ``compute(inputs)`` turns the extract into a raw result (patient-level, never
published); ``publish(raw, rel)`` turns that into a tree of figures made by the section's
:class:`~pipeline.disclosure.Release`; the release decides every figure at once and keeps the
ledger. A section whose tables are absent, or whose ``available`` check (or ``compute``, by
raising :class:`NotAvailable`) says the data cannot support it, is recorded as ``not_run`` with
the reason.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Settings
    from .disclosure import Published, Rules
    from .extract import Extract
    from .periods import Period

OK, NOT_RUN = "ok", "not_run"
SECTION_MARK = "sp-section"  # output metadata on the note a section shows when it cannot run
SNAPSHOT = "_sections.json"  # the registry as the notebook stage saw it, beside the sections' fragments


class NotAvailable(Exception):
    """The data cannot support a section (not a bug): the message is the reason shown to readers."""


@dataclass(frozen=True)
class Inputs:
    """What a section computes from."""

    extract: "Extract"   # restricted to the reporting period when the section follows it
    whole: "Extract"     # the whole extract (a patient's history, outcome windows)
    settings: "Settings"
    period: "Period | None" = None


@dataclass(frozen=True)
class Section:
    name: str                                   # the results.json key
    title: str                                  # the report's heading for it
    notebook: str                               # notebooks/<notebook>.py shows it
    order: int                                  # its place in the logic model (the report's order)
    required: tuple[str, ...]                   # contract tables it cannot run without
    compute: Callable[[Inputs], Any]
    publish: Callable[[Any, Any], Any]           # (raw, Release) -> tree of figures
    optional: tuple[str, ...] = ()              # tables it uses when present
    needs: str = ""                             # a sentence for readers: what it needs and why
    follows_period: bool = False                # restricted to a reporting period (activity sections)
    contract: bool = False                      # a data-contract section (always in results.json)
    available: Callable[[Inputs], str | None] | None = None  # a reason it cannot run, beyond tables
    after: tuple[str, ...] = ()                 # sections whose counts it repeats (Release.same_as): it is
                                                # released after them and withholds what they withhold
    reading: Callable[[dict], str] | None = None             # plain-English reading of the published section
    headlines: Callable[[dict], list["Headline"]] | None = None  # its rows of the executive summary

    def missing(self, tables: set[str] | dict) -> list[str]:
        return [t for t in self.required if t not in tables]

    def why_not(self, inputs: Inputs) -> str | None:
        """Why this section cannot run on these inputs, or None."""
        missing = self.missing(inputs.extract.tables)
        if missing:
            return "this extract has no " + " or ".join(f"`{t}`" for t in missing) + " table"
        return self.available(inputs) if self.available else None

    def run(self, inputs: Inputs, rules: "Rules", withheld_elsewhere: Iterable[str] = ()) -> "Result":
        """Compute and release the section; ``withheld_elsewhere``: the ``results.json`` paths the
        sections it comes :attr:`after` withhold (for the counts it repeats)."""
        from .disclosure import release

        reason = self.why_not(inputs)
        if reason is None:
            try:
                raw = self.compute(inputs)
            except NotAvailable as e:
                reason = str(e)
        if reason is not None:
            return Result(self, NOT_RUN, reason=reason)
        return Result(self, OK, published=release(self.publish, raw, rules, withheld_elsewhere), raw=raw)


@dataclass(frozen=True)
class Headline:
    """One row of the executive summary; ``value`` and ``reading`` quote published figures only."""

    measure: str
    value: str
    reading: str


@dataclass
class Result:
    section: Section
    status: str
    reason: str | None = None
    published: "Published | None" = None
    raw: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def data(self) -> Any:
        return self.published.data if self.published is not None else None

    def fragment(self, inputs_sha256: str) -> dict[str, Any]:
        """What the notebook stage hands the publish stage (``build/<b>/fragments/<name>.json``)."""
        s = self.section
        frag: dict[str, Any] = {"section": s.name, "status": self.status, "inputs_sha256": inputs_sha256,
                                **declaration(s)}
        if self.ok:
            p = self.published
            frag["data"] = p.data
            frag["suppressed"] = [f"{s.name}.{x}" for x in p.suppressed]
            frag["not_estimable"] = {f"{s.name}.{k}": v for k, v in p.not_estimable.items()}
            frag["facts"] = [f"{s.name}.{x}" for x in p.facts]
            frag["rules_applied"] = p.rules_applied()
            frag["headlines"] = [vars(h) for h in s.headlines(p.data)] if s.headlines else []
        else:
            frag["reason"] = self.reason
        return frag


def declaration(s: Section) -> dict[str, Any]:
    """What the publish stage needs to know of a section, as plain data (it reads it from the files
    the notebook stage writes, without importing the analyses)."""
    return {"title": s.title, "notebook": s.notebook, "order": s.order, "contract": s.contract}


def snapshot() -> dict[str, dict[str, Any]]:
    """Every registered section's :func:`declaration`, in report order (``build/<b>/sections.json``)."""
    return {s.name: declaration(s) for s in registry()}


def results_order(declared: dict[str, dict[str, Any]]) -> list[str]:
    """The order of sections in ``results.json``: the contract's sections in report order, then the
    others by name (the contract's keys come first)."""
    contract = sorted((d["order"], n) for n, d in declared.items() if d["contract"])
    return [n for _, n in contract] + sorted(n for n, d in declared.items() if not d["contract"])


@cache
def registry() -> tuple[Section, ...]:
    """Every declared section, in report order."""
    from . import analyses

    found: list[Section] = []
    for info in pkgutil.iter_modules(analyses.__path__):
        module = importlib.import_module(f"{analyses.__name__}.{info.name}")
        declared = getattr(module, "SECTIONS", None) or (getattr(module, "SECTION", None),)
        found += [s for s in declared if isinstance(s, Section)]
    names = [s.name for s in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RuntimeError(f"sections declared twice: {', '.join(twice)}")
    return tuple(sorted(found, key=lambda s: (s.order, s.name)))


def get(name: str) -> Section:
    for s in registry():
        if s.name == name:
            return s
    raise KeyError(f"no section {name!r} (have: {', '.join(s.name for s in registry())})")


def in_notebook(notebook: str) -> list[Section]:
    return [s for s in registry() if s.notebook == notebook]
