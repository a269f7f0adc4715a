# The two commands of the README: `make run` (set up, migrate, deploy, demo data) and `make test`.
PYTHON ?= python3
PORT ?= 5000
# the slowest tests are listed after each run, to keep the suite's time in view
PYTEST_ARGS ?= --durations=15
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
ASSETS := webapp/assets
ASSETS_STAMP := $(ASSETS)/node_modules/.installed-$(shell cat $(ASSETS)/package-lock.json | cksum | cut -d' ' -f1)

.PHONY: setup run test bench clean

setup: $(STAMP) $(ASSETS_STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# front-end packages (bootstrap, htmx, bpmn-js) exactly as package-lock.json pins them; served by the app
$(ASSETS_STAMP): $(ASSETS)/package-lock.json $(ASSETS)/package.json
	cd $(ASSETS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(ASSETS_STAMP)

run: setup
	$(BIN)/erp db upgrade
	$(BIN)/erp calendar seed
	$(BIN)/erp demo
	$(BIN)/erp instances
	@echo
	@echo "Web: http://127.0.0.1:5000/  (demo users wangfang, zhangwei, lina, liuyang, chenjing, zhaoqiang, sunmei, wangjun, zhoumin, sunlei, admin; password demo1234)"
	@echo "The web app and the worker run below (Ctrl-C stops both)."
	ERP_INSECURE_COOKIES=1 $(BIN)/erp serve --host 127.0.0.1 --port $(PORT) & \
	  trap 'kill %1 2>/dev/null' EXIT INT TERM; $(BIN)/erp worker

# Both databases at once (two pytest processes: the suite is CPU-bound and the machines have two cores); the
# PostgreSQL run's output follows the SQLite run's, and the tests that use no database run in the SQLite one. ERP_TEST_BACKENDS=sqlite (or postgresql) runs one only.
test: setup
	$(BIN)/ruff check .
	@if [ -n "$$ERP_TEST_BACKENDS" ]; then \
	  $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
	  ERP_TEST_BACKENDS=postgresql ERP_TEST_SECOND_PROCESS=1 $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) \
	    > .pytest-postgresql.log 2>&1 & pg=$$!; \
	  ERP_TEST_BACKENDS=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS); sqlite=$$?; \
	  wait $$pg; postgresql=$$?; \
	  echo "==================== PostgreSQL ===================="; cat .pytest-postgresql.log; \
	  echo "SQLite: exit $$sqlite; PostgreSQL: exit $$postgresql"; \
	  [ $$sqlite -eq 0 ] && [ $$postgresql -eq 0 ]; \
	fi

bench: setup
	$(BIN)/erp bench engine

clean:
	rm -rf $(VENV) instance/*.sqlite3*
