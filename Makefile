# Social prescribing evaluation pipeline: the Makefile is the DAG.
#   data_raw/<b>/ --process--> data_processed/<b>/ --notebooks--> build/<b>/ --publish--> reports/<b>/
# Every step is a real file target: an unchanged borough is not rebuilt, and changing one
# borough's data rebuilds only that borough. `make` alone prints this help.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.SECONDARY:
.SECONDEXPANSION:

BOROUGH ?= merton
PERIOD ?=
TARGET := $(BOROUGH)$(if $(PERIOD),/$(PERIOD))
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# this checkout's package first (a copy sharing the .venv through a symlink imports its own code)
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

PIPELINE_SRC := $(sort $(shell find pipeline -name '*.py' -not -path '*/__pycache__/*'))
NOTEBOOKS := $(sort $(basename $(notdir $(wildcard notebooks/[0-9]*.py))))
NOTEBOOK_SRC := $(foreach nb,$(NOTEBOOKS),notebooks/$(nb).py)
BOROUGHS := $(sort $(patsubst data_raw/%/extract.yml,%,$(wildcard data_raw/*/extract.yml)))
# `make -j reports` starts the biggest extracts first, so a parallel build does not end on one large borough
BUILD_ORDER := $(if $(BOROUGHS),$(shell du -s $(addprefix data_raw/,$(BOROUGHS)) | sort -rn | sed 's|.*data_raw/||'))
# the borough reports the London comparison reads: every one published (make reports builds them);
# one whose extract changed is rebuilt first, one that fails to build is left out of the comparison
LONDON_INPUTS := $(sort $(filter-out reports/london/%,$(wildcard reports/*/results.json)))
# when this make run started: reports newer than this were built in it (progress and summary lines);
# a recursive $(MAKE) is handed the same value on its command line
SP_BUILD_START := $(shell date +%s.%N)
export SP_BUILD_START

## Show this help
help:
	@echo "Social prescribing evaluation pipeline"
	@echo
	@echo "Usage: make <target> [BOROUGH=merton]"
	@echo
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z_-]+:/{if(doc!=""){split($$0,t,":"); printf "  \033[36m%-14s\033[0m %s\n", t[1], doc}; doc=""; next} {doc=""}' $(MAKEFILE_LIST)
	@echo
	@echo "Boroughs with data: $(if $(BOROUGHS),$(BOROUGHS),(none yet: 'make report' generates a synthetic one))"

# ---------------------------------------------------------------------------- environment

$(STAMP): requirements-lock.txt
	@echo "Setting up $(VENV) from requirements-lock.txt (first run only)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-lock.txt
	@test -L $(VENV) || $(PY) -c "import site,pathlib; pathlib.Path(site.getsitepackages()[0],'sp_eval_project.pth').write_text('$(CURDIR)\n')"
	@touch $@

## Create the Python environment (.venv) from the pinned lock
env: $(STAMP)

# ---------------------------------------------------------------------------- the DAG

# Each stage's prerequisites are the sources it imports: PROCESS_DEPS, NOTEBOOKS_DEPS, PUBLISH_DEPS
# and LONDON_DEPS, which pipeline/deps.py derives from the imports of pipeline/ and notebooks/ into
# build/deps.mk (remade, and re-read by make, whenever a source changes; standard library only)
DEPS_MK := build/deps.mk
-include $(DEPS_MK)
$(DEPS_MK): $(PIPELINE_SRC) $(NOTEBOOK_SRC)
	@mkdir -p $(@D) && $(PYTHON) -m pipeline.deps > $@.tmp && mv $@.tmp $@

data_raw/%/extract.yml: | $(STAMP)
	@$(PY) -m pipeline data $*

# the extract's folder is a prerequisite too: removing a table changes the folder, not any file left in it
data_processed/%/manifest.json: data_raw/%/extract.yml $$(wildcard data_raw/$$* data_raw/$$*/*.csv data_raw/$$*/*.parquet data_raw/$$*/settings.yml) $(PROCESS_DEPS) | $(STAMP)
	@$(PY) -m pipeline process $*

# a target is a borough (merton) or a borough and reporting period (merton/2023-24)
processed_of = data_processed/$(firstword $(subst /, ,$(1)))/manifest.json

# all of a borough's notebooks run in one Jupyter kernel; only the stale ones are re-run
# (those whose source is in $$?, or all when the processed data or a module they import changed)
build/%/notebooks/.executed: $(NOTEBOOK_SRC) $$(call processed_of,$$*) $(NOTEBOOKS_DEPS) | $(STAMP)
	@$(PY) -m pipeline notebooks $* $?

reports/%/results.json: build/%/notebooks/.executed $(PUBLISH_DEPS) | $(STAMP)
	@$(PY) -m pipeline publish $*

# the London comparison reads only the boroughs' published results.json, never patient-level data;
# a published report with no extract in data_raw/ is read as it is, never rebuilt
LONDON_ORPHANS := $(filter-out $(foreach b,$(BOROUGHS),reports/$(b)/results.json),$(LONDON_INPUTS))
ifneq ($(filter london reports/london/%,$(MAKECMDGOALS)),)
$(if $(LONDON_ORPHANS),$(eval $(LONDON_ORPHANS): ;))
endif
reports/london/index.html: $(LONDON_INPUTS) $(LONDON_DEPS) | $(STAMP)
	@$(PY) -m pipeline london

reports/london/screenshot.png: reports/london/index.html | $(STAMP)
	@$(PY) -m pipeline screenshot london

reports/%/screenshot.png: reports/%/results.json | $(STAMP)
	@$(PY) -m pipeline screenshot $*

# ---------------------------------------------------------------------------- user targets

## Build one borough's report into reports/BOROUGH/ (PERIOD=2023-24, 2023-Q2 or 2023-07 for a period report)
report: | $(STAMP)
	@$(if $(PERIOD),$(PY) -m pipeline period $(PERIOD) >/dev/null &&) $(MAKE) --no-print-directory SP_BUILD_START=$(SP_BUILD_START) reports/$(TARGET)/results.json
	@$(PY) -m pipeline.progress summary $(TARGET)

## Build every borough that has an extract in data_raw/ (safe with make -j)
reports: $(foreach b,$(BUILD_ORDER),reports/$(b)/results.json)
	@$(PY) -m pipeline.progress summary $(BOROUGHS)

## Compare every borough's published results in reports/london/: funnel plots and ranked tables
london: $(LONDON_INPUTS) reports/london/index.html
	@$(PY) -m pipeline.progress summary $(patsubst reports/%/results.json,%,$(LONDON_INPUTS)) london

## Save the first screen of reports/BOROUGH/index.html as reports/BOROUGH/screenshot.png (needs chromium)
screenshot: | $(STAMP)
	@$(MAKE) --no-print-directory SP_BUILD_START=$(SP_BUILD_START) reports/$(TARGET)/screenshot.png

## Check reports/BOROUGH/ before release: attacks on what is published + identifier scan; PASS/FAIL
check-release: reports/$(BOROUGH)/results.json | $(STAMP)
	@$(PY) -m pipeline.release_check $(BOROUGH)

## Start a folder for your own data: make new-borough NAME="Kingston upon Thames"
new-borough: | $(STAMP)
	@$(PY) -m pipeline new-borough "$(NAME)"

## Generate the built-in synthetic extracts for all 34 areas (never overwrites real data)
data: | $(STAMP)
	@$(PY) -m pipeline data --all

## Check an extract against the data contract and print a summary, building nothing
validate: | $(STAMP)
	@$(PY) -m pipeline validate $(BOROUGH)

## Run the test suite (unit, golden and end-to-end)
test: | $(STAMP)
	@$(PY) -m pytest

## Run the slow checks: CI coverage simulations, every borough built, scanned and attacked (~20 min)
test-slow: | $(STAMP)
	@$(PY) -m pytest -m slow

## Run the benchmark suite into bench/RESULTS.md (50-70 min); BENCH_ARGS=--quick: a 5-min smoke run into bench/out/
bench: | $(STAMP)
	@$(PY) bench/run.py $(BENCH_ARGS)

# the figures are stale when the code they measure changed: `make bench/RESULTS.md` reruns only then
bench/RESULTS.md: $(filter-out bench/coverage.py,$(wildcard bench/*.py)) $(PIPELINE_SRC) $(NOTEBOOK_SRC) config/defaults.yml Makefile | $(STAMP)
	@$(PY) bench/run.py

# JupyterLab opens the jupytext notebooks (notebooks/*.py) as notebooks on a double click
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_OVERRIDES): config/jupyterlab-overrides.json | $(STAMP)
	@mkdir -p $(@D) && cp $< $@

## Open JupyterLab on the notebooks (they run as-is on merton; edit the parameters cell to re-target)
lab: $(LAB_OVERRIDES) | $(STAMP)
	@$(VENV)/bin/jupyter lab --notebook-dir=notebooks

## Remove build products (processed data, executed notebooks, reports); keeps data_raw/
clean:
	@rm -rf build
	@find data_processed reports -mindepth 1 -maxdepth 1 ! -name README.md ! -name .gitkeep -exec rm -rf {} +

.PHONY: help env report reports data validate test test-slow lab clean london screenshot new-borough bench check-release
