# Shopkeeper — every command a developer or CI runs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: demo test lint format bench bench-peers clean serve

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP) ## create the venv, load a demo shop, serve API + dashboard on 127.0.0.1:8000
	$(BIN)/shopkeeper demo $(ARGS)

serve: $(STAMP)
	$(BIN)/shopkeeper serve $(ARGS)

test: $(STAMP) ## the whole suite, SQLite and PostgreSQL
	OPENBLAS_NUM_THREADS=1 $(BIN)/pytest -n 2 $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP) bench-peers ## benchmarks against a real server process; figures go to BENCHMARKS.md
	$(BIN)/python -m benchmarks $(ARGS)

# Recommender peers, each in its own virtualenv with pinned versions (benchmarks only, never
# runtime dependencies): python -m benchmarks.recsys_peers runs them.
PEER_VENVS := benchmarks/peers/venvs
PEERS ?= implicit recommenders lenskit
bench-peers: $(foreach p,$(PEERS),$(PEER_VENVS)/$(p)/.installed)

$(PEER_VENVS)/%/.installed: benchmarks/peers/requirements-%.txt
	@test -x $(PEER_VENVS)/$*/bin/python || $(PYTHON) -m venv $(PEER_VENVS)/$*
	$(PEER_VENVS)/$*/bin/pip install --quiet -r $<
	@touch $@

clean:
	rm -rf $(VENV) shopkeeper-data .pytest_cache .mypy_cache .ruff_cache
