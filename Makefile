# whoknows: every command a newcomer or CI needs. Run `make help`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= var/demo
SHARED ?= ../shared

.PHONY: help venv demo test test-fast typecheck lint-imports e2e-deps postgres mattermost eval bench clean

help:
	@echo "make demo       set up, generate the demo workspace, import it, ask it questions"
	@echo "make test       every test, including end-to-end against a real Mattermost"
	@echo "make test-fast  the pure-core tests only (no server)"
	@echo "make typecheck  mypy --strict"
	@echo "make lint-imports  the layer contracts (import-linter, pyproject.toml)"
	@echo "make eval       the expert-finding evaluation on the Stack Exchange dev data"
	@echo "make bench      the benchmark (SCALE=100k by default, SCALE=1m; ENGINE=whoosh or tantivy)"

venv: $(STAMP)
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: venv
	mkdir -p $(DATA)
	$(BIN)/whoknows demo --out $(DATA)/workspace.jsonl
	rm -rf $(DATA)/index $(DATA)/state.sqlite*
	$(BIN)/whoknows --data $(DATA) import $(DATA)/workspace.jsonl
	$(BIN)/whoknows --data $(DATA) ask "kubernetes ingress"
	$(BIN)/whoknows --data $(DATA) ask "How do I rotate the postgres replication password without downtime?"
	$(BIN)/whoknows --data $(DATA) ask "flaky ios build"

typecheck: venv
	$(BIN)/mypy

lint-imports: venv
	$(BIN)/lint-imports

test-fast: venv
	$(BIN)/pytest -m "not e2e"

test: venv e2e-deps typecheck lint-imports
	$(BIN)/pytest

eval: venv
	mkdir -p var/eval
	for site in cardano beer; do \
	  $(BIN)/whoknows dataset stackexchange $(SHARED)/datasets/stackexchange/$$site \
	    --corpus var/eval/$$site.corpus.jsonl --queries var/eval/$$site.queries.jsonl && \
	  $(BIN)/whoknows eval --corpus var/eval/$$site.corpus.jsonl --queries var/eval/$$site.queries.jsonl \
	    > var/eval/$$site.result.json || exit 1; \
	done

SCALE ?= 100k
ENGINE ?= whoosh

bench: venv
	$(BIN)/python -m whoknows.bench --scale $(SCALE) --engine $(ENGINE) --out var/bench

clean:
	rm -rf var build .mypy_cache .pytest_cache

# --- end-to-end harness: PostgreSQL and a Mattermost server built from its Go modules ---
e2e-deps: postgres mattermost

postgres:
	bash tests/mattermost/setup-postgres.sh

mattermost:
	bash tests/mattermost/build-mattermost.sh
