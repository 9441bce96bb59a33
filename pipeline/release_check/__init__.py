"""The release check: an attack suite on a published report, independent of the code that made it.

It reads only what is published (``results.json``, ``index.html``, the executed notebooks and
any period sub-reports) and tries, as an attacker who knows the disclosure rules would, to
recover what the rules protect. ``docs/release-check.md`` describes each attack; the command is
``python -m pipeline.release_check <folder-or-slug>`` (``make check-release BOROUGH=x``).

- :mod:`.published`      loading a published folder; JSON paths and patterns
- :mod:`.rules`          the published rules, and what a published number says about the truth
- :mod:`.catalogue`      how the published numbers hang together (sums, shares, means, ratios)
- :mod:`.counts`         the published counts as one linear model
- :mod:`.differencing`   attacks a and e: bounds on hidden counts by linear programming
- :mod:`.backsolve`      attacks b and c: percentages, ratios and means back to whole numbers
- :mod:`.curves`         attacks d and g: event counts from curve steps; horizons past the data
- :mod:`.traceability`   attack f: numbers shown that results.json does not publish
- :mod:`.findings`       what an attack reports
- :mod:`.verdict`        all attacks, and the verdict

It must never import the publishing code (``pipeline.disclosure``, ``pipeline.analyses``,
``pipeline.nb``, ``pipeline.render``, ``pipeline.publish``'s assembly): only the identifier scan
``pipeline.publish.scan_for_identifiers`` and ``pipeline.paths`` (tests/test_release_check.py
enforces this).
"""

from .findings import Finding
from .published import Published, from_results, load
from .verdict import Verdict, run

__all__ = ["Finding", "Published", "Verdict", "from_results", "load", "run"]
