"""Run every attack on a published report and write the verdict for the person who signs it off."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from . import backsolve, counts, curves, differencing, traceability
from .findings import FAILING, MEANING, Finding
from .published import Published
from .rules import Rules

#: the attacks in the order the verdict reports them: (name, what it tries)
ATTACKS = (
    (differencing.ATTACK, "parts against totals, two-way tables, aliases and periods (a, e)"),
    (backsolve.ATTACK_PCT, "percentages, rates and ratios back to whole counts (b)"),
    (backsolve.ATTACK_MEAN, "means of whole numbers back to their count (c)"),
    (curves.ATTACK_CURVE, "event counts from curve steps (d)"),
    (traceability.ATTACK, "numbers in the HTML and notebooks traced to results.json (f)"),
    (curves.ATTACK_HORIZON, "figures at horizons nobody was followed to (g)"),
)


@dataclass
class Verdict:
    report: Published
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    identifiers: list[tuple[str, str]] | None = None  # None: the identifier scan did not run
    scan_note: str = ""

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.fails]

    @property
    def attacks_passed(self) -> bool:
        """No attack recovered anything (warnings allowed)."""
        return not self.failing

    @property
    def control_on(self) -> bool:
        return Rules.of(self.report.results).enabled

    @property
    def passed(self) -> bool:
        """The release verdict: disclosure control was on, the attacks passed, and the identifier
        scan ran (or was skipped on purpose) and found nothing."""
        return (self.control_on and self.attacks_passed and not self.identifiers
                and (self.identifiers is not None or bool(self.scan_note)))

    def text(self, verbose: bool = False) -> str:
        rules = Rules.of(self.report.results)
        r = self.report.results
        periods = ", ".join(p.label for p in self.report.periods)
        lines = [f"Release check of {self.report.folder}/ ({r.get('borough', '?')}"
                 + (f"; period reports: {periods}" if periods else "") + ")",
                 f"Rules read from results.json: {rules.text()}.", ""]
        if self.passed:
            lines.append("VERDICT: PASS. No attack recovered anything the rules protect"
                         + (f" ({len(self.warnings)} warning(s) below)." if self.warnings else "."))
        else:
            why = []
            if not self.control_on:
                why.append("disclosure control was switched off, so every figure is exact (NOT FOR PUBLICATION)")
            if self.failing:
                why.append(f"{len(self.failing)} finding(s) let a reader recover what the rules protect")
            if self.identifiers:
                why.append(f"{len(self.identifiers)} patient or referral identifier(s) found in published files")
            if self.identifiers is None and not self.scan_note:
                why.append("the identifier scan could not run")
            lines.append("VERDICT: FAIL. Do not publish: " + "; ".join(why) + ".")
        for title, items in (("Findings", self.failing), ("Warnings (do not stop the release)", self.warnings)):
            if items:
                lines += ["", f"{title}:"]
                for i, f in enumerate(items, 1):
                    lines.append(f"{i:3d}. [{f.classification}] {f.attack}: {MEANING[f.classification]}.")
                    lines.append(f"     In {f.file}. {f.how}")
        lines += ["", "Counts by attack:"]
        for name, what in ATTACKS:
            mine = [f for f in self.findings if f.attack == name]
            fail = sum(f.fails for f in mine)
            warn = len(mine) - fail
            lines.append(f"  {name:30s} {fail:3d} finding(s)" + (f", {warn} warning(s)" if warn else "")
                         + f"   {what}")
        if self.identifiers is None:
            lines.append(f"  {'identifier scan':30s} {self.scan_note or 'NOT RUN'}")
        else:
            lines.append(f"  {'identifier scan':30s} " + ("; ".join(f"{f}: {i}" for f, i in self.identifiers[:5])
                                                          if self.identifiers else "no patient or referral identifiers"))
        if self.notes and verbose:
            lines += ["", "Catalogue relations set aside (the published figures contradict them):"]
            lines += [f"  - {n}" for n in self.notes]
        elif self.notes:
            lines += ["", f"{len(self.notes)} catalogue relation(s) did not hold and were set aside (--verbose lists them)."]
        return "\n".join(lines)


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per recovery: the same values recovered the same way from several files (a
    period report repeats the outcome sections) are reported once, naming every file."""
    merged: dict[tuple, Finding] = {}
    for f in findings:
        key = (f.attack, f.classification, repr(sorted(f.recovered.items())))
        if key in merged:
            m = merged[key]
            if f.file not in m.file.split(", "):
                merged[key] = replace(m, file=f"{m.file}, {f.file}")
        else:
            merged[key] = f
    return list(merged.values())


def run(report: Published) -> Verdict:
    """Every attack on ``report`` (and its period reports); no identifier scan."""
    model = counts.build(report)
    findings = (differencing.attack(report, model) + backsolve.attack(report) + curves.attack(report)
                + traceability.attack(report))
    order = {name: i for i, (name, _) in enumerate(ATTACKS)}
    findings.sort(key=lambda f: (f.classification not in FAILING, order.get(f.attack, 99)))
    return Verdict(report, _merge(findings), notes=model.notes)


def scan_identifiers(verdict: Verdict, folder: Path, processed: Path) -> None:
    """The publisher's own identifier scan (``pipeline.publish.scan_for_identifiers``) over every
    published file, against the processed extract's identifiers."""
    if not (processed / "manifest.json").is_file():
        verdict.identifiers = None
        return
    from ..publish import scan_for_identifiers

    verdict.identifiers = scan_for_identifiers(folder, None, processed)  # type: ignore[arg-type]
