# The README's two commands: `make demo` (an end-to-end campaign) and `make test`.
# Each creates .venv when missing, installs the CPU torch wheel first when torch is absent,
# then this package with its extras, then does its job.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.scoutlab-installed
EXTRAS ?= dev,hpc
PYTEST_ARGS ?=

.PHONY: demo test test-all test-optuna-min lint bench-quick clean-demo

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

# One torch/OpenMP thread unless the caller says otherwise: the demo's models are tiny, and two
# threads per process on a busy 2-core machine made training 6x slower (spinning threads).
demo: export OMP_NUM_THREADS ?= 1
demo: $(STAMP)
	$(VENV)/bin/scout check examples/molecules/campaign.toml
	$(VENV)/bin/scout run examples/molecules/campaign.toml
	$(VENV)/bin/scout status examples/molecules/campaign.toml
	$(VENV)/bin/scout report examples/molecules/campaign.toml --out examples/molecules/report
	$(VENV)/bin/scout export examples/molecules/campaign.toml --out examples/molecules/results.sdf

# pytest exit code 5 means "no tests collected": that is a failure here, said plainly.
test: $(STAMP)
	@$(PY) -m pytest -m "not slow" --durations=15 $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests - failing"; exit 1; fi; exit $$rc

# The lowest Optuna the ledger supports (pyproject: optuna>=4.3,<6; make test runs the newest):
# the storage, worker and coordinator tests again with it first on the path.
OPTUNA_MIN ?= 4.3.0
test-optuna-min: $(STAMP)
	@$(PY) -m pip install --quiet --no-deps --upgrade --target .optuna-min "optuna==$(OPTUNA_MIN)"
	PYTHONPATH=.optuna-min $(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS) \
		tests/active_learning/ledger tests/active_learning/execution tests/active_learning/coordinator

test-all: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench-quick: $(STAMP)
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

clean-demo:
	rm -rf examples/molecules/campaign.db examples/molecules/campaign.artifacts examples/molecules/report examples/molecules/results.sdf
