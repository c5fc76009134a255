# 一线 Yixian — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export YIXIAN_VAR_DIR ?= $(CURDIR)/var
export YIXIAN_PORT ?= 8000
export YIXIAN_APP_PORT ?= 8550

.PHONY: run test lint typecheck unit bench soak install clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[server,web,dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	bash scripts/run.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check sync server fieldapp tests bench scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --durations=15

test: lint typecheck unit

bench: $(STAMP)
	$(PY) -m bench

# The long runs of the two sync proofs (20,000 fault schedules, 500 device kills), side by side;
# the rest of the suite is `make test`.
soak: $(STAMP)
	YIXIAN_SOAK=1 $(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "slow or not slow" \
		tests/sync/test_sync_faults.py tests/sync/test_device_kill.py
	@tail -n 2 "$(YIXIAN_VAR_DIR)/sync-proof-figures.txt"

clean:
	rm -rf var .mypy_cache .ruff_cache
