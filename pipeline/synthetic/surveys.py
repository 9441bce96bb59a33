"""Survey answers (``survey_responses``) for a documented subset of areas: four neighbouring south-west
London boroughs ran the same patient, link-worker and practice-staff survey in two waves, a year
apart. Other areas have no survey table (the report shows the section as not available).

- **Waves**: fieldwork of six weeks starting 14 and 26 months after ``extract_start`` (June 2022
  and June 2023 for the London extracts).
- **Patients**: 30% of the referrals first seen in the 12 months before a wave answer it; four
  questions on the five-point scale (each skipped 4% of the time) and a free-text question that
  35% answer. Comments are drawn from a short list of invented sentences.
- **Link workers**: 2.5 per PCN, 85% answering each wave. **Practice staff**: 3 per practice, 40%
  answering each wave.
- **Planted effect** (:data:`pipeline.synthetic.planted.SURVEY_PLANTED`): the patients' share
  agreeing that they feel more connected to their community rises from 45% to 60%. Every other
  question is answered alike in both waves.

Draws come only from the table's own stream, so no other table changes (``pipeline.synthetic.build``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import day_number, ids, to_date
from .planted import SURVEY_PLANTED
from .world import World

SURVEY_AREAS = ("merton", "sutton", "kingston-upon-thames", "richmond-upon-thames")
WAVE_START_MONTHS = {1: 14, 2: 26}
FIELDWORK_DAYS = 42
SKIP = 0.04
PATIENT_RESPONSE, LINK_WORKER_RESPONSE, STAFF_RESPONSE = 0.30, 0.85, 0.40
LINK_WORKERS_PER_PCN, STAFF_PER_PRACTICE = 2.5, 3
COMMENT_SHARE = 0.35

_PLANTED = SURVEY_PLANTED["answers"]
#: group -> question_id -> (wording, answers in wave 1, in wave 2); None: free text only
QUESTIONS: dict[str, dict[str, tuple[str, tuple | None, tuple | None]]] = {
    "patient": {
        "connected_community": ("I feel more connected to my community", _PLANTED[1], _PLANTED[2]),
        "know_where_help": ("I know where to go for help and support", *[(0.04, 0.08, 0.18, 0.42, 0.28)] * 2),
        "listened_to": ("My link worker listened to what mattered to me", *[(0.02, 0.04, 0.10, 0.38, 0.46)] * 2),
        "recommend": ("I would recommend the service to friends or family", *[(0.03, 0.05, 0.12, 0.37, 0.43)] * 2),
        "anything_else": ("Is there anything else you would like to tell us?", None, None),
    },
    "link_worker": {
        "manageable_caseload": ("My caseload is manageable", *[(0.10, 0.25, 0.25, 0.30, 0.10)] * 2),
        "enough_services": ("There are enough local services to refer people to",
                            *[(0.12, 0.30, 0.22, 0.28, 0.08)] * 2),
        "supervision": ("I get the supervision and support I need", *[(0.05, 0.12, 0.20, 0.40, 0.23)] * 2),
    },
    "practice_staff": {
        "understand_role": ("I understand what the link worker does", *[(0.03, 0.08, 0.14, 0.45, 0.30)] * 2),
        "reduced_demand": ("Social prescribing has reduced demand on clinicians' time",
                           *[(0.06, 0.16, 0.38, 0.28, 0.12)] * 2),
        "easy_to_refer": ("It is easy to refer patients to the service", *[(0.04, 0.10, 0.20, 0.40, 0.26)] * 2),
    },
}
COMMENTS = (
    "The walking group gave my week a shape again.",
    "It took a long time to hear back after the first call.",
    "My link worker helped me sort out the benefits forms.",
    "I would like more activities in the evenings.",
    "Meeting people at the community garden has helped a lot.",
    "Nothing to add, thank you.",
)


def _respondents(w: World, rng: np.random.Generator, wave_start: int) -> dict[str, int]:
    """How many of each group answer the wave."""
    fc = w.ref["first_contact_day"].to_numpy(dtype=float)
    seen = np.isfinite(fc) & (fc >= wave_start - 365) & (fc < wave_start)
    return {"patient": int((rng.random(int(seen.sum())) < PATIENT_RESPONSE).sum()),
            "link_worker": int(rng.binomial(max(3, round(LINK_WORKERS_PER_PCN * len(w.area.pcns))),
                                            LINK_WORKER_RESPONSE)),
            "practice_staff": int(rng.binomial(STAFF_PER_PRACTICE * len(w.practices), STAFF_RESPONSE))}


def survey_responses(w: World) -> pd.DataFrame | None:
    if w.area.slug not in SURVEY_AREAS:
        return None
    rng = w.stream("survey_responses")
    parts = []
    for wave, months in WAVE_START_MONTHS.items():
        start = day_number((pd.Timestamp(w.area.extract_start) + pd.DateOffset(months=months)).date())
        for group, n in _respondents(w, rng, start).items():
            day = start + rng.integers(0, FIELDWORK_DAYS, size=n)
            person = np.arange(n)
            for qid, (text, *answers) in QUESTIONS[group].items():
                p = answers[wave - 1]
                if p is None:
                    who = person[rng.random(n) < COMMENT_SHARE]
                    response = np.full(len(who), np.nan)
                    comment = np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), size=len(who))]
                else:
                    who = person
                    response = (rng.choice(5, size=n, p=np.array(p) / sum(p)) + 1).astype(float)
                    response[rng.random(n) < SKIP] = np.nan
                    comment = np.full(n, None, dtype=object)
                parts.append(pd.DataFrame({"wave": wave, "group": group, "person": who, "day": day[who],
                                           "question_id": qid, "question_text": text, "response": response,
                                           "free_text": comment}))
    df = pd.concat(parts, ignore_index=True)
    key = df[["wave", "group", "person"]].drop_duplicates()
    key["response_id"] = ids(rng, "sv-", len(key))
    df = df.merge(key, on=["wave", "group", "person"]).sort_values(["wave", "group", "person"], kind="mergesort")
    return pd.DataFrame({
        "response_id": df["response_id"].to_numpy(), "respondent_group": df["group"].to_numpy(),
        "survey_wave": df["wave"].to_numpy(), "response_date": to_date(df["day"].to_numpy()),
        "question_id": df["question_id"].to_numpy(), "question_text": df["question_text"].to_numpy(),
        "response": df["response"].to_numpy(), "free_text": df["free_text"].to_numpy()})
