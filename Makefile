# The two commands of the README: `make run` and `make test`. Both set up .venv first.
# `make run PORT=5001 HOST=0.0.0.0` serves elsewhere than 127.0.0.1:5000.
PYTHON ?= python3
VENV := .venv
# Parallel test processes (pytest-xdist); each gets its own database, Redis and receivers.
TEST_WORKERS ?= 2
BIN := $(VENV)/bin

.PHONY: run test lint clean

run: $(VENV)/.installed
	$(BIN)/leadsieve run $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("leadsieve needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
