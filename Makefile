# Hazex — developer commands. `make run` and `make test` are the two that matter.
#
#   make run            install, start embedded PostgreSQL+Redis (unless DATABASE_URL/REDIS_URL
#                       are set), migrate, load reference + demo data, start a worker and the
#                       web server on http://127.0.0.1:5000 (PORT=... overrides)
#   make test           run the whole suite in TEST_WORKERS=2 parallel workers
#                       (PYTEST_ARGS="-k foo -x" passes extra arguments; TEST_WORKERS=0: one process)
#   make bench          run every bench/*.py (bench/_*.py are their shared helpers)
#   make services-down  stop the embedded PostgreSQL and Redis
#   make clean          remove caches and compiled translations (keeps .venv and instance/)
#   make distclean      clean + stop services + remove .venv and instance/ (deletes local data)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
STAMP := $(VENV)/.installed
PORT ?= 5000
PYTEST_ARGS ?=
TEST_WORKERS ?= 2

export FLASK_APP := wsgi
export PORT
export VENV

REQUIREMENTS := $(wildcard requirements*.txt)
PO_FILES := $(wildcard market/translations/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help venv install translations run test bench services-down clean distclean

help:
	@sed -n '3,11p' Makefile | sed 's/^# \{0,1\}//'

# --- environment ---------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file is newer than the stamp.
$(STAMP): $(REQUIREMENTS) | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# Compile each catalogue when its .po changes (the .mo files are not committed).
market/translations/%.mo: market/translations/%.po $(STAMP)
	$(VENV)/bin/pybabel compile -f -i $< -o $@

translations: $(MO_FILES)

install: $(STAMP) translations

venv: install

# --- run -----------------------------------------------------------------------

run: install
	bin/run-dev

services-down:
	@if [ -x $(FLASK) ]; then $(FLASK) services down; else echo "no $(VENV); nothing to stop"; fi

# --- tests and benchmarks ------------------------------------------------------

# pytest exits 5 when it collected no tests; that is a failure here, with a clear message.
test: install
	@rc=0; $(PY) -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) — failing" >&2; fi; \
	exit $$rc

bench: install
	@shopt -s nullglob; files=(bench/[!_]*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/"; exit 0; fi; \
	failed=(); \
	for f in "$${files[@]}"; do \
	  echo "== $$f"; \
	  $(PY) "$$f" || failed+=("$$f"); \
	done; \
	if [ $${#failed[@]} -gt 0 ]; then echo "failed: $${failed[*]}" >&2; exit 1; fi

# --- housekeeping --------------------------------------------------------------

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .hypothesis test-results
	rm -f $(MO_FILES)

distclean: services-down clean
	rm -rf $(VENV) instance
