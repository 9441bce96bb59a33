"""Surveys of patients, link workers and practice staff (the optional ``survey_responses`` table):
how many questionnaires came back from each group in each wave, how each question was answered,
and how the share agreeing changed between the first and the last wave a question was asked in
(the extra ``surveys`` section of results.json; methods in ``docs/methods-surveys.md``).

Definitions:

- **Questionnaires**: distinct ``response_id`` per respondent group and wave (the contract gives
  each questionnaire one group and one wave).
- **Answers**: per question and wave, the group's questionnaires by response 1..5, and
  ``no_answer`` for those with no response to it (skipped, "don't know", or no row). Every share
  is of the wave's questionnaires returned by the group (the base shared by all its questions).
- **Agreeing**: a response of 4 (agree) or 5 (strongly agree). The share agreeing is published
  with a 95% Wilson score interval.
- **Whole or collapsed**: a question's answers in a wave are broken down by point of the scale
  (and no answer) only when none of the six counts is small (1..min_count-1); otherwise into
  disagreeing (1-2), neither (3), agreeing (4-5) and no answer when none of those is small;
  otherwise to agreeing or not, and only the share agreeing is published (the layer withholds it
  too when it rests on too few). Withholding a few cells of a six-way split leaves each of them
  known to be small from what the published cells leave of the total (a reader takes the
  rounding windows of the total and the published parts, and each withheld cell is at least 1),
  which the release check rightly calls a disclosure; combining categories, the usual remedy for
  a table with small cells, leaves nothing to bound.
- **Change between waves**: the share agreeing in the question's last wave minus its first, in
  percentage points, with Newcombe's hybrid score interval and a two-proportion z-test. The waves
  are treated as independent samples: surveys are anonymous, so the same person answering twice
  cannot be paired, and most respondents differ between waves.
- Questions no one answered on the scale in any wave (free-text-only questions) are listed by
  their wording only.

**Free text is never read.** ``compute`` takes the table without its ``free_text`` column, so no
comment can reach ``results.json``, a notebook or the report.

Disclosure (:mod:`pipeline.disclosure`): each group's questionnaires are split by wave (no total
across groups: adding patients to practice staff means nothing, and in a group x wave table one
small cell would withhold a whole rectangle, the patients' waves with it). Each question's
answers in a wave (the categories below agreeing, ``no_answer`` and agreeing) add up to that
wave's questionnaires, and in the five-point breakdown agreeing splits into 4 and 5: nested sums, not overlapping ones, so that what the published parts
leave of any sum is never a small number. The base is the questionnaires returned, not those
answering the question: both published exactly would give away a small number of people who
skipped it. Every share is computed from the rounded counts, and every interval and test from the
published rounded counts too (``rel.derived``), so none can be back-solved to an exact count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..contract import LIKERT_LABELS, SURVEY_GROUPS
from ..disclosure import Release
from ..disclosure.cells import Cell
from ..extract import Extract
from ..formatting import ci_text, fmt
from ..sections import Headline, NotAvailable, Section
from .proportions import newcombe, two_proportion_p, wilson

TABLE = "survey_responses"
SCALE = tuple(LIKERT_LABELS)
AGREE = (4, 5)
NO_ANSWER = "no_answer"
#: how a question's answers in a wave are broken down, finest first: the first with no small count
#: is published (agreeing last; every other point in one category), else agreeing or not only
FIVE_POINT, THREE_POINT, AGREE_ONLY = "five_point", "three_point", "agree_only"
BREAKDOWNS = {
    FIVE_POINT: {"1": (1,), "2": (2,), "3": (3,), "4": (4,), "5": (5,)},
    THREE_POINT: {"disagree": (1, 2), "neither": (3,), "agree": (4, 5)},
}
CATEGORY_LABELS = {**{str(k): v for k, v in LIKERT_LABELS.items()}, "disagree": "disagree or strongly disagree",
                   "neither": "neither agree nor disagree", "agree": "agree or strongly agree",
                   NO_ANSWER: "no answer"}
GROUP_LABELS = {"patient": "Patients", "link_worker": "Link workers", "practice_staff": "Practice staff"}
#: a change's direction, judged on its published interval
UP, DOWN, UNCLEAR = "higher", "lower", "no clear change"
COLUMNS = ("response_id", "respondent_group", "survey_wave", "question_id", "question_text", "response")

METHOD = {
    "questionnaires": "distinct response_id per respondent group and wave",
    "base": "every share is of the questionnaires the group returned in the wave; no_answer counts those "
            "with no response to the question (skipped or don't know), which are not agreeing",
    "agree": "a response of 4 (agree) or 5 (strongly agree)",
    "agree_ci95": "Wilson score interval, from the published rounded counts",
    "change": "share agreeing in the question's last wave minus its first, in percentage points; 95% interval "
              "by Newcombe's hybrid score method and p-value by the two-proportion z-test (the chi-squared test "
              "of the 2 x 2 table), both from the published rounded counts, treating the waves as independent "
              "samples",
    "breakdown": "five_point: answers by point of the scale and no answer, where none of the six counts is small; "
                 "else three_point: disagree (1-2), neither (3), agree (4-5) and no answer, where none of those is "
                 "small; else agree_only: the share agreeing alone",
    "free_text": "never published: comments are not read by the analysis",
}
CAVEATS = [
    "Each wave is a different group of people: whoever chose to answer that time. A change between waves can "
    "come from who answered (a different mix of people, a different response rate, a survey handed out at a "
    "different point of support) as much as from the service changing.",
    "People who answer surveys tend to be the more satisfied and the more engaged; the shares describe the "
    "people who answered, not everyone who used the service.",
    "There is no comparison group: a change in how patients feel about their community also follows what "
    "happens around them (the season, the cost of living, the end of pandemic restrictions).",
    "Several questions are compared at once; at the 5% level about one change in twenty would look real by "
    "chance alone.",
    "Free-text comments are never published: they can identify people. Read them locally, under your "
    "organisation's information governance.",
]


@dataclass
class QuestionRaw:
    text: str
    answers: dict[int, dict[int, int]]  # wave -> response (1..5) -> questionnaires; every wave it was asked in


@dataclass
class SurveysRaw:
    groups: list[str]
    waves: list[int]
    questionnaires: dict[str, dict[int, int]]  # group -> wave -> questionnaires returned
    questions: dict[str, dict[str, QuestionRaw]]  # group -> question_id -> answers (on the scale)
    unscored: dict[str, dict[str, str]] = field(default_factory=dict)  # group -> question_id -> wording


# ---------------------------------------------------------------------------------- compute
def compute(extract: Extract) -> SurveysRaw:
    """Exact counts from the typed extract (never published); the free text is not read."""
    df = extract[TABLE][list(COLUMNS)]
    if not len(df):
        raise NotAvailable("the `survey_responses` table has no rows")
    groups = [g for g in SURVEY_GROUPS if (df["respondent_group"] == g).any()]
    waves = sorted(int(w) for w in pd.unique(df["survey_wave"]))
    per = df.drop_duplicates("response_id").groupby(["respondent_group", "survey_wave"]).size()
    questionnaires = {g: {w: int(per.get((g, w), 0)) for w in waves} for g in groups}
    texts = df.drop_duplicates("question_id").set_index("question_id")["question_text"]
    asked = df.drop_duplicates(["respondent_group", "question_id", "survey_wave"])
    scored = df[df["response"].notna()]
    counts = scored.groupby(["respondent_group", "question_id", "survey_wave", "response"]).size()
    with_scores = set(zip(scored["respondent_group"], scored["question_id"], strict=True))
    questions: dict[str, dict[str, QuestionRaw]] = {g: {} for g in groups}
    unscored: dict[str, dict[str, str]] = {}
    for g, q, w in zip(asked["respondent_group"], asked["question_id"], asked["survey_wave"], strict=True):
        if (g, q) not in with_scores:
            unscored.setdefault(g, {})[q] = str(texts[q])
            continue
        qr = questions[g].setdefault(q, QuestionRaw(str(texts[q]), {}))
        qr.answers[int(w)] = {k: int(counts.get((g, q, w, k), 0)) for k in SCALE}
    for qs in questions.values():
        for qr in qs.values():
            qr.answers = dict(sorted(qr.answers.items()))
    return SurveysRaw(groups, waves, questionnaires, questions, unscored)


# ---------------------------------------------------------------------------------- publish
def _direction(ci: list[float]) -> str:
    return UP if ci[0] > 0 else DOWN if ci[1] < 0 else UNCLEAR


def _breakdown(answers: dict[int, int], no_answer: int, small) -> tuple[str, dict[str, int]]:
    """The finest of :data:`BREAKDOWNS` none of whose counts is ``small``: its name and counts
    (agreeing last, for the nesting), or ``AGREE_ONLY`` and no counts."""
    for name, categories in BREAKDOWNS.items():
        counts = {c: sum(answers[k] for k in points) for c, points in categories.items()} | {NO_ANSWER: no_answer}
        if not any(small(n) for n in counts.values()):
            return name, counts
    return AGREE_ONLY, {}


def _question(rel: Release, qr: QuestionRaw, returned: dict[str, Cell], label: str) -> dict:
    """One question's published answers per wave and its change between its first and last wave.
    ``returned``: the cells of the group's questionnaires per wave, the base of every share. A
    count goes with its base: withheld whenever the base is (a share of a withheld base is)."""
    waves: dict[str, dict] = {}
    for w, answers in qr.answers.items():
        key = str(w)
        base = returned[key]
        n_agree = sum(answers[k] for k in AGREE)
        name, parts = _breakdown(answers, base.value - sum(answers.values()), rel.rules.is_small)
        counts = pct = None
        if name == AGREE_ONLY:
            agree = rel.split(base, {"agree": n_agree, "not": base.value - n_agree}, f"{label}[{key}]")["agree"]
        else:
            # nested, not overlapping: the categories below agreeing, no answer and agreeing add up
            # to the base, and (five-point) 4 and 5 to agreeing
            top = rel.split(base, {c: n for c, n in parts.items() if c not in ("4", "5")} | {"agree": n_agree},
                            f"{label}[{key}]")
            agree = top["agree"]
            cells = top | (rel.split(agree, {c: parts[c] for c in ("4", "5")}, f"{label}[{key}].agree")
                           if name == FIVE_POINT else {})
            cells = {c: cells[c] for c in parts}
            counts, pct = {c: rel.given(rel.count(cell), base) for c, cell in cells.items()}, rel.pcts(cells, base)
        k = rel.given(rel.count(agree), base)
        waves[key] = {"breakdown": name, "counts": counts, "pct": pct, "agree": k, "agree_pct": rel.pct(agree, base),
                      "agree_ci95": rel.derived(wilson, k, rel.count(base), decimals=1)}
    out = {"text": qr.text, "waves": waves, "change": None}
    if len(waves) >= 2:
        first, last = min(waves, key=int), max(waves, key=int)
        a, b = waves[first], waves[last]
        counts = (a["agree"], rel.count(returned[first]), b["agree"], rel.count(returned[last]))
        ci = rel.derived(newcombe, *counts, decimals=1)
        out["change"] = {
            "from_wave": first, "to_wave": last,
            "agree_pct_points": rel.derived(lambda x, y: y - x, a["agree_pct"], b["agree_pct"], decimals=1),
            "ci95": ci,
            "p_value": rel.derived(two_proportion_p, *counts, decimals=4),
            "direction": rel.derived(_direction, ci),
        }
    return out


def publish(raw: SurveysRaw, rel: Release) -> dict:
    waves = [str(w) for w in raw.waves]
    totals = {g: rel.cell(sum(raw.questionnaires[g].values()), f"questionnaires[{g}]") for g in raw.groups}
    returned = {g: rel.split(totals[g], {w: raw.questionnaires[g][int(w)] for w in waves}, f"questionnaires[{g}]")
                for g in raw.groups}
    return {
        "groups": {g: GROUP_LABELS[g] for g in raw.groups},
        "waves": waves,
        "scale": {str(k): v for k, v in LIKERT_LABELS.items()},
        "categories": dict(CATEGORY_LABELS),
        "questionnaires": {"by_group": {g: rel.count(totals[g]) for g in raw.groups},
                           "by_group_wave": {g: rel.counts(returned[g]) for g in raw.groups}},
        "questions": {g: {q: _question(rel, qr, returned[g], f"{g}.{q}")
                          for q, qr in raw.questions[g].items()} for g in raw.groups},
        "free_text_only_questions": {g: dict(qs) for g, qs in raw.unscored.items()},
        "method": dict(METHOD),
        "caveats": list(CAVEATS),
    }


# ---------------------------------------------------------------------------------- words
def changes(pub: dict) -> list[tuple[str, str, dict]]:
    """(group, question_id, change) for every published change whose interval was published."""
    return [(g, q, d["change"]) for g, qs in pub["questions"].items() for q, d in qs.items()
            if d["change"] is not None and d["change"]["ci95"] is not None]


def change_text(pub: dict, g: str, q: str) -> str:
    """A question's change in words, from the published figures."""
    d = pub["questions"][g][q]
    c = d["change"]
    a, b = d["waves"][c["from_wave"]], d["waves"][c["to_wave"]]
    head = (f"“{d['text']}”: {fmt(a['agree_pct'], 1)}% of {GROUP_LABELS[g].lower()} agreed in wave {c['from_wave']} "
            f"and {fmt(b['agree_pct'], 1)}% in wave {c['to_wave']}")
    if c["direction"] is None:
        return head + "."
    sign = "+" if (c["agree_pct_points"] or 0) > 0 else ""
    change = (f"{sign}{fmt(c['agree_pct_points'], 1)} percentage points, 95% CI {ci_text(c['ci95'], 1)}")
    if c["direction"] == UNCLEAR:
        return f"{head} ({change}): the interval includes no change."
    return f"{head} ({change}): {c['direction']} in the later wave, beyond what chance alone would readily give."


def reading(pub: dict) -> str:
    """A plain-English reading of the published section (published figures only)."""
    q = pub["questionnaires"]
    by = ", ".join(f"{GROUP_LABELS[g].lower()} {fmt(q['by_group'][g])}" for g in pub["groups"])
    parts = [f"Questionnaires came back over {len(pub['waves'])} wave(s): {by}."]
    clear = [(g, k) for g, k, c in changes(pub) if c["direction"] in (UP, DOWN)]
    if clear:
        parts += [change_text(pub, g, k) for g, k in clear]
    elif changes(pub):
        parts.append("No question's share agreeing changed between waves by more than chance could readily give.")
    else:
        parts.append("No question could be compared between waves (one wave only, or too few answers to publish).")
    parts.append("The waves are different people answering at different times, with no comparison group, so a "
                 "change describes the answers, not an effect of the service; the caveats below say why.")
    return " ".join(parts)


def headlines(pub: dict) -> list[Headline]:
    q = pub["questionnaires"]["by_group"]
    out = [Headline("Survey questionnaires returned",
                    "; ".join(f"{GROUP_LABELS[g].lower()} {fmt(q[g])}" for g in pub["groups"]),
                    f"over {len(pub['waves'])} wave(s); each group is its own survey")]
    for g, k, c in changes(pub):
        if c["direction"] in (UP, DOWN):
            d = pub["questions"][g][k]
            out.append(Headline(f"Survey: “{d['text']}” ({GROUP_LABELS[g].lower()})",
                                f"{fmt(c['agree_pct_points'], 1)} points",
                                f"agreeing, wave {c['from_wave']} to {c['to_wave']}, 95% CI {ci_text(c['ci95'], 1)}; "
                                "different respondents each wave"))
    return out


SECTION = Section(
    name="surveys",
    title="Surveys of patients, link workers and practice staff",
    notebook="85_surveys",
    order=85,
    required=(TABLE,),
    needs="This section needs the `survey_responses` table (patient, link-worker or practice-staff survey answers).",
    compute=lambda inputs: compute(inputs.whole),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
