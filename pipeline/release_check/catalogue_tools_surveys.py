"""The catalogue's relations (:mod:`.catalogue`) for two sections: the other outcome instruments
(``outcome_tools``: completion, pairs by change, transition tables, means of whole-number scores)
and surveys (``surveys``: each group's questionnaires by wave; per question and wave, the answers
add up to the wave's questionnaires, the base of every share)."""

from __future__ import annotations

from .catalogue import Mean, Relation, Same, Share, Sum

OT = "outcome_tools"
SV = "surveys"
SV_Q = "surveys.questions.{g}.{q}.waves.{w}"
SV_BASE = "surveys.questionnaires.by_group_wave.{g}.{w}"

TOOLS_SURVEYS: list[Relation] = [
    # ---- other outcome instruments (outcome_tools): completion, pairs by change, transition tables
    Share(f"{OT}.{{ins}}.completion_pct", f"{OT}.{{ins}}.n_with_baseline", "share assessed again",
          numerator=f"{OT}.{{ins}}.n_completers"),
    Sum(f"{OT}.{{ins}}.n_completers", f"{OT}.{{ins}}.n_with_baseline", "completers had a baseline", at_most=True),
    Sum(f"{OT}.{{ins}}.scores.{{s}}.n_pairs", f"{OT}.{{ins}}.n_completers", "a score's pairs are completers",
        at_most=True),
    Sum(f"{OT}.{{ins}}.scores.{{s}}.change_pct.*", f"{OT}.{{ins}}.scores.{{s}}.n_pairs", "pairs by change", pct=True),
    Share(f"{OT}.{{ins}}.scores.{{s}}.change_pct.{{k}}", f"{OT}.{{ins}}.scores.{{s}}.n_pairs", "share of pairs"),
    Sum(f"{OT}.eq5d5l.dimensions.{{d}}.*", f"{OT}.eq5d5l.n_completers", "pairs by a dimension's change", pct=True),
    Share(f"{OT}.eq5d5l.dimensions.{{d}}.{{k}}", f"{OT}.eq5d5l.n_completers", "share of pairs"),
    Sum(f"{OT}.eq5d5l.paretian_pct.*", f"{OT}.eq5d5l.n_completers", "pairs by Paretian class", pct=True),
    Share(f"{OT}.eq5d5l.paretian_pct.{{k}}", f"{OT}.eq5d5l.n_completers", "share of pairs"),
    *[r for t, main in (("pam.level_transitions", "pam.scores.level"), ("wsas.band_transitions", "wsas.scores.total"))
      for r in (Sum(f"{OT}.{t}.counts.{{r}}.*", f"{OT}.{t}.baseline.{{r}}", "a baseline row of the table"),
                Sum(f"{OT}.{t}.counts.*.{{c}}", f"{OT}.{t}.followup.{{c}}", "a follow-up column of the table"),
                Sum(f"{OT}.{t}.baseline.*", f"{OT}.{main}.n_pairs", "pairs by baseline"),
                Sum(f"{OT}.{t}.followup.*", f"{OT}.{main}.n_pairs", "pairs by follow-up"))],
    *[Mean(f"{OT}.{s}.{m}", f"{OT}.{s}.n_pairs", why, low=lo, high=hi, decimals=2)
      for s, lo, hi, why in (("wsas.scores.total", 0, 40, "WSAS totals are whole numbers 0 to 40"),
                             ("eq5d5l.scores.vas", 0, 100, "EQ VAS scores are whole numbers 0 to 100"),
                             ("pam.scores.level", 1, 4, "PAM levels are whole numbers 1 to 4"),
                             ("wellbeing_star.scores.{a}", 1, 10, "Well-being Star scores are whole numbers 1 to 10"))
      for m, lo, hi in (("mean_baseline", lo, hi), ("mean_followup", lo, hi), ("mean_change", lo - hi, hi - lo))],
    # ---- surveys: each group's questionnaires by wave; per question and wave, the answers (1..5
    # and no_answer) add up to the wave's questionnaires, the base of every share
    Sum(f"{SV}.questionnaires.by_group_wave.{{g}}.*", f"{SV}.questionnaires.by_group.{{g}}", "a group's waves"),
    Sum(f"{SV_Q}.counts.*", SV_BASE, "every questionnaire answered the question on the scale, or not"),
    Sum((f"{SV_Q}.counts.4", f"{SV_Q}.counts.5"), f"{SV_Q}.agree", "agreeing: agree or strongly agree"),
    Sum(f"{SV_Q}.pct.*", SV_BASE, "answers by point of the scale", pct=True),
    Share(f"{SV_Q}.pct.{{k}}", SV_BASE, "share of the questionnaires", numerator=f"{SV_Q}.counts.{{k}}"),
    Share(f"{SV_Q}.agree_pct", SV_BASE, "share agreeing", numerator=f"{SV_Q}.agree"),
    Sum(f"{SV_Q}.agree", SV_BASE, "those agreeing are some of the wave's questionnaires", at_most=True),
    Same(f"{SV_Q}.counts.agree", f"{SV_Q}.agree", "the three-point breakdown's agreeing is the share's count"),
]
