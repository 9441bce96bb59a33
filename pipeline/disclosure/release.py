"""One section's release: build the tree of figures, then decide every figure at once.

Every number leaves the package this way. A section's ``publish(raw, rel)`` returns a tree of
dicts and lists whose leaves are figures made by ``rel`` (plus text, booleans and ``None`` for
"does not apply"); :meth:`Release.publish` then

1. finds every count the tree reveals (a count, or a percentage, ratio or rate built on it),
2. decides which cells are hidden, across every table of the section at once
   (:func:`pipeline.disclosure.cells.hidden_cells`), starting from the small counts and the counts
   another section of the report withholds (:meth:`Release.same_as`),
3. decides every figure (:mod:`pipeline.disclosure.figures`), and
4. returns the plain JSON-ready tree with a ledger: one entry per leaf, with the rule that
   decided it. A bare number in the tree is a bug (it did not pass the layer) and raises.

Typical use::

    rel = Release(settings.disclosure)
    n = rel.cell(raw.referrals)
    months = rel.split(n, raw.referrals_by_month)            # the months add up to n
    tree = {"referrals": rel.count(n),
            "referrals_by_month": rel.counts(months),
            "dna_pct": rel.pct(raw.dna, raw.booked),            # from the rounded counts
            "median_wait": rel.estimate(raw.median_wait, base=raw.waited, decimals=1)}
    out = rel.publish(tree)   # out.data, out.ledger, out.suppressed, out.not_estimable
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..config import DisclosureSettings
from .cells import Cell, Group, hidden_cells
from .curves import SafeCurve
from .figures import (
    FACT,
    NOT_APPLICABLE,
    NOT_ESTIMABLE,
    SUPPRESSED,
    Count,
    Derived,
    Estimate,
    Fact,
    Figure,
    Given,
    Interval,
    NotEstimable,
    Rate,
    Resolver,
    Share,
)
from .rules import Rules, rounded

K = TypeVar("K", bound=Hashable)
OTHER = "all other"


@dataclass(frozen=True)
class Entry:
    path: str
    rule: str
    reason: str | None = None


@dataclass
class Published:
    data: Any
    ledger: list[Entry] = field(default_factory=list)

    @property
    def suppressed(self) -> list[str]:
        """Paths withheld by disclosure control (not those that could not be estimated)."""
        return sorted(e.path for e in self.ledger if e.rule in SUPPRESSED)

    @property
    def facts(self) -> list[str]:
        """Paths published as they are because they do not describe people (:meth:`Release.fact`)."""
        return sorted(e.path for e in self.ledger if e.rule == FACT)

    @property
    def not_estimable(self) -> dict[str, str]:
        return {e.path: e.reason or "" for e in sorted(self.ledger, key=lambda e: e.path) if e.rule == NOT_ESTIMABLE}

    def rules_applied(self) -> dict[str, int]:
        """How many figures each rule decided."""
        out: dict[str, int] = {}
        for e in self.ledger:
            out[e.rule] = out.get(e.rule, 0) + 1
        return dict(sorted(out.items()))


class Table:
    """A two-way table of counts with both margins, as cells tied by their sums."""

    def __init__(self, rel: "Release", rows: Mapping[Any, Mapping[Any, int]], label: str):
        self.rows = list(rows)
        self.cols: list[Any] = []
        for r in self.rows:
            self.cols += [c for c in rows[r] if c not in self.cols]
        self.cell = {(r, c): rel.cell(int(rows[r].get(c, 0)), f"{label}[{r},{c}]")
                     for r in self.rows for c in self.cols}
        self.row_total = {r: rel.cell(sum(self.cell[(r, c)].value for c in self.cols), f"{label}[{r},total]")
                          for r in self.rows}
        self.col_total = {c: rel.cell(sum(self.cell[(r, c)].value for r in self.rows), f"{label}[total,{c}]")
                          for c in self.cols}
        self.total = rel.cell(sum(t.value for t in self.row_total.values()), f"{label}[total]")
        for r in self.rows:
            rel.group(self.row_total[r], [self.cell[(r, c)] for c in self.cols])
        for c in self.cols:
            rel.group(self.col_total[c], [self.cell[(r, c)] for r in self.rows])
        rel.group(self.total, self.row_total.values())
        rel.group(self.total, self.col_total.values())


class Release:
    """The builder of one section's published figures (see the module docstring)."""

    def __init__(self, rules: Rules | DisclosureSettings | None = None, withheld_elsewhere: Iterable[str] = ()):
        if rules is None:
            rules = Rules.default()
        self.rules = rules if isinstance(rules, Rules) else Rules(rules)
        self.withheld_elsewhere = frozenset(withheld_elsewhere)
        self._cells: list[Cell] = []
        self._groups: list[Group] = []
        self._same: list[tuple[Cell, str]] = []

    # ------------------------------------------------------------------ cells and sums
    def cell(self, n: int | Cell, label: str = "") -> Cell:
        """An exact count (returned as is when it is already a cell)."""
        if isinstance(n, Cell):
            return n
        c = Cell(n, label)
        self._cells.append(c)
        return c

    def same_as(self, n: int | Cell, path: str, label: str = "") -> Cell:
        """A count that another section of the report also publishes, at ``path`` of ``results.json``
        (``"activity.referrals"``): withheld here whenever that section withholds it (the section is
        released after it: :attr:`pipeline.sections.Section.after`), so a hidden cell is hidden
        everywhere."""
        c = self.cell(n, label)
        self._same.append((c, path))
        return c

    def group(self, total: Cell, parts: Iterable[Cell]) -> None:
        """Declare that ``parts`` add up to ``total`` (so a hidden part cannot be recovered from it)."""
        self._groups.append(Group(total, tuple(parts)))

    def split(self, total: Cell | int, parts: Mapping[K, int], label: str = "") -> dict[K, Cell]:
        """Cells for a breakdown of ``total`` (by month, by practice, ...). Parts that do not add up
        to the whole (records with no value) leave an unpublished remainder in the sum."""
        total = self.cell(total, label)
        cells = {k: self.cell(int(v), f"{label}[{k}]") for k, v in parts.items()}
        rest = total.value - sum(c.value for c in cells.values())
        if rest < 0:
            raise ValueError(f"the parts of {label or 'a total'} add up to more than it ({-rest} more)")
        members = list(cells.values()) + ([self.cell(rest, f"{label}[rest]")] if rest else [])
        self.group(total, members)
        return cells

    def subset(self, total: Cell, n: int, label: str = "") -> Cell:
        """The cell counting some of ``total``'s people: ``total`` itself when it is all of them, else
        a part of it (the rest unpublished), so a small difference between the two stays hidden."""
        if n == total.value:
            return total
        return self.split(total, {label: n}, label)[label]

    def table(self, rows: Mapping[Any, Mapping[Any, int]], label: str = "") -> Table:
        """A two-way table (rows x columns) with both margins and the grand total as cells."""
        return Table(self, rows, label)

    def cross(self, rows: Mapping[Any, Cell], cols: Mapping[Any, Cell], counts: Mapping[Any, Mapping[Any, int]],
              label: str = "") -> dict[tuple[Any, Any], Cell]:
        """Cells of a two-way table whose row and column totals are the existing cells ``rows`` and
        ``cols`` (a breakdown of counts published elsewhere in the section)."""
        cells = {(r, c): self.cell(int(counts.get(r, {}).get(c, 0)), f"{label}[{r},{c}]") for r in rows for c in cols}
        for r, total in rows.items():
            self.group(total, [cells[(r, c)] for c in cols])
        for c, total in cols.items():
            self.group(total, [cells[(r, c)] for r in rows])
        return cells

    def top(self, counts: Mapping[str, int], n: int = 10, other: str = OTHER) -> dict[str, int]:
        """The ``n`` largest items that may be named (never a small count), largest first, then
        ``other`` pooling the rest; small named items are folded into ``other`` until it is not
        small itself. Exact counts: make cells of them with :meth:`split`."""
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        named = [(k, v) for k, v in ranked if not self.rules.is_small(v)][:n]
        rest = sum(counts.values()) - sum(v for _, v in named)
        while named and self.rules.is_small(rest):
            rest += named.pop()[1]
        out = dict(named)
        if rest:
            out[other] = rest
        return out

    # ------------------------------------------------------------------ figures
    def count(self, n: Cell | int) -> Count:
        return Count(self.cell(n))

    def counts(self, cells: Mapping[K, Cell | int]) -> dict[K, Count]:
        return {k: self.count(c) for k, c in cells.items()}

    def pct(self, num: Cell | int, den: Cell | int, decimals: int | None = None) -> Share:
        """``num / den`` in %, from the rounded counts."""
        return Share(self.cell(num), self.cell(den), 100.0, decimals)

    def pcts(self, cells: Mapping[K, Cell], total: Cell, decimals: int | None = None) -> dict[K, Share]:
        """Each cell as a % of ``total`` (a distribution), from the rounded counts."""
        return {k: self.pct(c, total, decimals) for k, c in cells.items()}

    def ratio(self, num: Cell | int, den: Cell | int, decimals: int = 2, scale: float = 1.0) -> Share:
        """A ratio of two counts (e.g. contacts per person seen), from the rounded counts."""
        return Share(self.cell(num), self.cell(den), scale, decimals)

    def rate(self, n: Cell | int, denominator: float | None, per: float = 1000, decimals: int = 2) -> Rate:
        """A rounded count per ``per`` of a denominator that does not describe people."""
        return Rate(self.cell(n), denominator, per, decimals)

    def estimate(self, value: Any, base: Cell | int | None, events: Cell | int | None = None, decimals: int = 2,
                 reason: str | None = None) -> Estimate:
        """A median, test statistic, p-value or model estimate resting on ``base`` people."""
        return Estimate(_plain(value), base, events, decimals, reason=reason)

    def mean(self, value: Any, base: Cell | int | None, decimals: int = 2, whole_numbers: bool = True,
             reason: str | None = None) -> Estimate:
        """A mean; of whole numbers (scores, counts) by default, so its decimals depend on its base."""
        return Estimate(_plain(value), base, None, decimals, whole_numbers=whole_numbers, reason=reason)

    def interval(self, lo: Any, hi: Any, base: Cell | int | None, events: Cell | int | None = None,
                 decimals: int = 2, whole_numbers: bool = False, reason: str | None = None) -> Interval:
        """A confidence interval; ``whole_numbers``: the interval of a mean of whole numbers, given
        to the mean's decimals (its midpoint would otherwise show the mean more precisely)."""
        return Interval(_plain(lo), _plain(hi), base, events, decimals, whole_numbers, reason)

    def derived(self, fn: Callable[..., Any], *inputs: Figure, decimals: int | None = None,
                reason: str | None = None, base: Cell | int | None = None, partial: bool = False) -> Derived:
        """A value computed from other figures of this release only (withheld with them); ``base``:
        the people it rests on, when its inputs count something else (appointments, contacts);
        ``partial``: computed from what is published, a withheld input passed as ``None`` (a chart's
        limits over months some of which are withheld)."""
        return Derived(fn, tuple(inputs), decimals, reason, base, partial)

    def fact(self, value: Any, decimals: int | None = None) -> Fact:
        """A figure that does not describe people (a setting, a registered population, an FTE), to
        ``decimals`` when given."""
        value = _plain(value)
        if decimals is not None and value is not None:
            value = rounded(float(value), decimals)
        return Fact(value)

    def given(self, figure: Figure, *cells: Cell) -> Given:
        """``figure``, withheld whenever one of ``cells`` is (a group's mean goes with its count)."""
        return Given(figure, cells)

    def not_estimable(self, reason: str) -> NotEstimable:
        return NotEstimable(reason)

    def curve(self, time: Sequence[float], status: Sequence[int], causes: tuple[int, ...], n: Cell | int,
              alpha: float = 0.05, follow_up: Sequence[float] | None = None) -> SafeCurve:
        """Survival / cumulative-incidence curves computed from rounded counts (see
        :mod:`pipeline.disclosure.curves`); ``n`` is the cohort size's cell."""
        return SafeCurve(self.rules, time, status, causes, self.cell(n), alpha, follow_up)

    # ------------------------------------------------------------------ deciding
    def publish(self, tree: Any) -> Published:
        leaves = list(_leaves(tree, ()))
        figures = [f for _, f in leaves if isinstance(f, Figure)]
        shown: dict[Cell, int] = {}
        for f in figures:
            for c in f.reveals(self.rules):
                shown[c] = shown.get(c, 0) + 1
        elsewhere = [c for c, path in self._same if path in self.withheld_elsewhere]
        hidden = hidden_cells(self._cells, self._groups, shown, self.rules, elsewhere)
        resolve = Resolver(self.rules, hidden)
        ledger: list[Entry] = []

        def build(node: Any, path: tuple[str, ...]) -> Any:
            if isinstance(node, Mapping):
                return {k: build(v, (*path, str(k))) for k, v in node.items()}
            if isinstance(node, (list, tuple)):
                return [build(v, (*path, str(i))) for i, v in enumerate(node)]
            if isinstance(node, Figure):
                o = resolve(node)
                ledger.append(Entry(".".join(path), o.rule, o.reason))
                return o.value
            if node is None:
                ledger.append(Entry(".".join(path), NOT_APPLICABLE))
            return node

        return Published(build(tree, ()), ledger)


def release(publish: Callable[[Any, "Release"], Any], raw: Any,
            rules: Rules | DisclosureSettings | None = None, withheld_elsewhere: Iterable[str] = ()) -> Published:
    """Run a section's ``publish(raw, rel)`` through a new release and decide it;
    ``withheld_elsewhere``: the ``results.json`` paths the sections released before it withhold."""
    rel = Release(rules, withheld_elsewhere)
    return rel.publish(publish(raw, rel))


def _leaves(node: Any, path: tuple[str, ...]):
    """(path, leaf) for every leaf; a number that is not a figure is a bug."""
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _leaves(v, (*path, str(k)))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, str(i)))
    elif isinstance(node, (Figure, str, bool)) or node is None:
        yield path, node
    else:
        raise TypeError(f"{'.'.join(path) or 'the tree'}: {node!r} ({type(node).__name__}) did not pass the "
                        "disclosure layer; make it with the section's Release (count, pct, estimate, fact, ...)")


def _plain(v: Any) -> Any:
    """numpy scalars to Python numbers (the ledger and JSON want plain values)."""
    if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)):
        try:
            return v.item()
        except (TypeError, ValueError):
            return v
    return v
