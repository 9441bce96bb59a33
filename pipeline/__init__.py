"""Reproducible evaluation pipeline for social prescribing in England.

The package holds all the logic; notebooks under ``notebooks/`` hold narrative and call in here.
One module per concern:

- :mod:`pipeline.paths`       project-root-anchored paths
- :mod:`pipeline.extract`     the in-memory typed extract shared by every stage
- :mod:`pipeline.errors`      the user's errors, printed as messages (a bug keeps its traceback)
- :mod:`pipeline.contract`    data contract v1 as data: tables, columns, categories, dtypes
- :mod:`pipeline.checks`      checking typed tables against the contract: schemas, rules, NHS numbers
- :mod:`pipeline.measures`    the contract's clinical measures, ranges and units, as plain data
- :mod:`pipeline.load`        loading an extract: read (:mod:`pipeline.rawtables`), type
  (:mod:`pipeline.coerce`), check; extract.yml is :mod:`pipeline.extract_config`, the input
  hashes :mod:`pipeline.hashing`
- :mod:`pipeline.processed_tables` a processed extract's Parquet tables, written and read back
- :mod:`pipeline.processed`   a processed extract's manifest and text, read without pandas
- :mod:`pipeline.synthetic`   deterministic synthetic extracts for every area
- :mod:`pipeline.config`      project defaults and per-borough overrides
- :mod:`pipeline.disclosure`  statistical disclosure control for everything published
- :mod:`pipeline.analyses`    one module per analysis
- :mod:`pipeline.execute`     a borough's notebooks run by Papermill in one kernel
- :mod:`pipeline.render`      Quarto / nbconvert rendering
- :mod:`pipeline.publish`     results.json assembly and publishing
- :mod:`pipeline.atomic`      a report folder swapped into place atomically
- :mod:`pipeline.london`      the London comparison, from the boroughs' results.json
- :mod:`pipeline.cli`         the command line the Makefile calls
- :mod:`pipeline.deps`        each Make stage's prerequisites, from the imports
"""

import sys as _sys

__version__ = "0.1.0"
CONTRACT_VERSION = 1

# nbformat imports jsonschema, which imports rfc3987_syntax when it is installed (JupyterLab's
# jupyter-events brings it) and builds some 40 grammars on import, for an "iri" format check
# nbformat never asks for. Two processes of every borough's build import nbformat (the notebooks'
# driver and publish): measured on 4 December, Merton's publish stage took 1.53 s of CPU with this
# line and 2.67 s without, and `make report` from clean notebooks 8.9 s of CPU with it and 10.9 s
# without (median of 8 runs each; bench/README.md). Keep it out.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
