# `make run`: a working demo on a fresh machine. `make test`: the whole suite,
# on SQLite and then on PostgreSQL. Both create .venv and install first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo
	@echo
	@echo "  Open http://127.0.0.1:5000/events/samen-onderwijs-versnellen"
	@echo "  Every e-mail the app sends is kept in instance/mail/ (and logged below)."
	@echo "  Stop with Ctrl-C."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: install
	bash scripts/run-tests.sh

clean:
	rm -rf $(VENV) instance .pytest_cache
