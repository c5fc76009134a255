# 一线 Yixian — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export YIXIAN_VAR_DIR ?= $(CURDIR)/var
export YIXIAN_PORT ?= 8000
export YIXIAN_APP_PORT ?= 8550

.PHONY: run test lint typecheck unit bench bench-scale soak install lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[server,web,dev]"
	@touch $(STAMP)

install: $(STAMP)

# Pin what the suite passed with: a new release of a dependency cannot change CI behind our back.
lock: $(STAMP)
	@{ echo "# Versions the suite passed with (pip freeze of .venv); make install applies them as constraints."; \
	   echo "# Refresh with \`make lock\` after changing pyproject.toml's dependencies, and run make test."; \
	   $(PY) -m pip freeze --all --exclude-editable | grep -v -e '^-e' -e '^pip=='; } > constraints.txt

run: $(STAMP)
	bash scripts/run.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check sync server fieldapp tests bench scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --dist loadgroup --durations=15

test: lint typecheck unit

bench: $(STAMP)
	$(PY) -m bench

# The long load runs: 200 simulated phones syncing for 60 s against one server process and two
# on PostgreSQL (bench/bench_load.py), and the scale rows (bench/bench_scale.py, and the
# supervisor's dashboard at 100,000 cases: bench/bench_scale_dashboard.py).
bench-scale: $(STAMP)
	YIXIAN_BENCH_LOAD=full $(PY) -m bench load scale scale_dashboard

# The long runs of the sync proofs (20,000 fault schedules in 8 shards, 500 device kills, 24 phones
# on three server processes), two at a time, schemathesis with its coverage and fuzzing phases,
# the authorization matrix on every object, and backup and restore under sync load on
# PostgreSQL; the rest of the suite is `make test`. The figures of this run are printed at the end.
soak: $(STAMP)
	@mkdir -p "$(YIXIAN_VAR_DIR)"; { wc -l < "$(YIXIAN_VAR_DIR)/sync-proof-figures.txt"; } \
		> "$(YIXIAN_VAR_DIR)/.soak-start" 2>/dev/null || echo 0 > "$(YIXIAN_VAR_DIR)/.soak-start"
	YIXIAN_SOAK=1 $(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --dist load -m "slow or not slow" \
		tests/sync/test_device_kill.py tests/sync/test_sync_faults.py \
		tests/sync/test_several_servers.py \
		tests/server/test_schemathesis.py tests/server/test_authorization_matrix.py \
		tests/server/test_backup_restore.py
	@tail -n +$$(( $$(cat "$(YIXIAN_VAR_DIR)/.soak-start") + 1 )) "$(YIXIAN_VAR_DIR)/sync-proof-figures.txt"

clean:
	rm -rf var .mypy_cache .ruff_cache
