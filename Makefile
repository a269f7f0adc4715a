# The two commands of the README: `make run` (set up, migrate, deploy, demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test bench clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: setup
	$(BIN)/erp db upgrade
	$(BIN)/erp calendar seed
	$(BIN)/erp demo
	$(BIN)/erp instances
	@echo
	@echo "The worker runs below (Ctrl-C stops it). In another shell try:"
	@echo "  $(BIN)/erp tasks --user zhangwei      $(BIN)/erp show 1      $(BIN)/erp --help"
	$(BIN)/erp worker

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/erp bench engine

clean:
	rm -rf $(VENV) instance/*.sqlite3*
