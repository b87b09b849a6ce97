# Koers: `make run` starts it with demo data, `make test` runs every check.
# Each target installs what it needs first; a second run reuses what is there.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
VENDOR_STAMP := src/koers/static/vendor/.copied
PO_FILES := $(wildcard src/koers/locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)
EN_PO := src/koers/locale/en/LC_MESSAGES/django.po

.DEFAULT_GOAL := help
.PHONY: help install run test lint format messages bench clean

help:
	@echo "make run      install, migrate, load demo data once, start Koers and its worker"
	@echo "make test     install (Python, npm, chromium) and run lint and the whole test suite"
	@echo "make bench    run the benchmarks in bench/ (ONLY=<name>, SCALE=small)"
	@echo "make messages refresh the Dutch and English translation catalogues"

install: $(PY_STAMP) $(VENDOR_STAMP) $(MO_FILES)

$(PY_STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR_STAMP): $(NODE_STAMP) scripts/vendor.mjs
	node scripts/vendor.mjs

%/LC_MESSAGES/django.mo: %/LC_MESSAGES/django.po | $(PY_STAMP)
	@scripts/ensure-debian-package msgfmt gettext
	cd src/koers && ../../$(BIN)/django-admin compilemessages --locale $(notdir $*) --verbosity 0

run: install
	$(BIN)/koers run --demo

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/koers manage makemigrations --check --dry-run

test: install lint
	@scripts/ensure-debian-package chromium chromium
	@scripts/ensure-debian-package msgfmt gettext
	$(BIN)/pytest

format: $(PY_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	cd src/koers && ../../$(BIN)/koers manage makemessages --locale nl --locale en \
		--no-obsolete --add-location file --ignore 'static/*'
	@# English is the source language: its catalogue is the source strings themselves.
	msgattrib --clear-fuzzy --empty -o $(EN_PO) $(EN_PO)
	msgen -o $(EN_PO) $(EN_PO)
	cd src/koers && ../../$(BIN)/django-admin compilemessages --verbosity 0

bench: install
	$(BIN)/python bench/run.py $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) node_modules src/koers/static/vendor $(MO_FILES)
