"""Deterministic synthetic extracts for every built-in area (:mod:`pipeline.areas`).

``generate(slug)`` writes a contract-conforming extract (every contract table the area has) into
``data_raw/<slug>/``; ``ensure(slug)`` does so only when the folder is absent. The same slug always
gives byte-identical files: the random generator is seeded from the slug (CRC-32) and the
generator version, and nothing else (no clock, no hash randomisation) enters.

Shapes follow the seeds' published figures (see ``docs/synthetic-data.md``): Merton's age bands,
66% female, the top referral reasons in the published order, about 17% of booked contacts DNA or
cancelled, about 3.2 attended contacts per patient seen; Norfolk & Waveney's hospital service
(mean age 72, SD 17; 26% admission avoided / 74% discharge expedited; 5.3 bed days saved on
average, SD 6.1; 45% receiving a one-off budget averaging £129, SD £286; about 4% readmitted
within 2 weeks, 7% within 3 months and 3% dying within 3 months). Known effects are planted so
tests can check that the analyses recover them: :data:`PLANTED`.

The modules, one concept each:

- :mod:`.draws`: the random streams (the area's seed, a new table's own stream) and common draws
- :mod:`.planted`: the planted effects, as documented constants, and :data:`PLANTED`
- :mod:`.world`: one area being drawn, and what earlier tables leave for later ones
- :mod:`.people`: practices, patients and referrals
- :mod:`.hospital`: hospital spells and deaths
- :mod:`.contacts`: link-worker contacts and closures (and a hospital service's outcomes)
- :mod:`.outcomes`: ONS4 outcome measures
- :mod:`.signposting`: signposting and unmet needs
- :mod:`.gp`: GP appointments and the comparison pool
- :mod:`.clinical`: clinical measurements
- :mod:`.pcn`: the PCN-quarter panel
- :mod:`.surveys`: survey answers (a documented subset of areas, on their own stream)
- :mod:`.practice_lists`: practices' registered list sizes by financial year (its own stream)
- :mod:`.reviews`: link workers' RAG ratings and safeguarding escalations (its own stream)
- :mod:`.build`: the order of the draws, and where a new table's generator goes
- :mod:`.write`: writing an extract, refusing to overwrite real data
"""

from .build import build_tables
from .draws import GENERATOR_VERSION, seed_for
from .planted import PLANTED
from .write import RefusedError, ensure, generate, write_extract

__all__ = ["GENERATOR_VERSION", "PLANTED", "RefusedError", "build_tables", "ensure", "generate", "seed_for",
           "write_extract"]
