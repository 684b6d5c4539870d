# poolsim: the two commands of the README.
#   make run   - create .venv, install poolsim, run the quickstart scenario end to end
#   make test  - create .venv, install poolsim + dev tools, run ruff, mypy and the test suite
#   make calibration - run the calibration suite and regenerate docs/calibration.md
# In CI (CI=true) `make test` also runs the slow statistical tier and the calibration suite
# (`poolsim bench calibration`: exit 5 when a target is out of its published band).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast test-all lint typecheck docs calibration notebooks constraints clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "poolsim needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/poolsim run scenarios/quickstart.yaml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
ifeq ($(CI),true)
	$(BIN)/pytest -m "slow or not slow"
	$(BIN)/poolsim bench calibration
else
	$(BIN)/pytest -m "not slow"
endif
	$(BIN)/pytest --nbmake notebooks

test-all: lint typecheck
	$(BIN)/pytest -m "slow or not slow"
	$(BIN)/pytest --nbmake notebooks

docs: $(STAMP)
	$(BIN)/poolsim schema --markdown -o docs/scenario-reference.md

# Measures PENDING targets too (shown in the page, never gating).
calibration: $(STAMP)
	$(BIN)/poolsim bench calibration --measure-pending --markdown -o docs/calibration.md

# The notebooks' source is notebooks/*.py (jupytext py:percent, paired by notebooks/jupytext.toml);
# this writes each stripped .ipynb from its script, keeping the cell ids.
# constraints.txt pins every package of poolsim[dev,dask], transitive ones too (pip's resolver,
# keeping today's pins where it can; `scripts/compile_constraints.py --upgrade` resolves afresh).
constraints: $(STAMP)
	$(BIN)/python scripts/compile_constraints.py

notebooks: $(STAMP)
	cd notebooks && ../$(BIN)/jupytext --to ipynb --update *.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
