# whoknows: every command a newcomer or CI needs. Run `make help`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= var/demo
SHARED ?= ../shared

.PHONY: help venv demo test test-fast soak typecheck lint-imports e2e-deps postgres mattermost opensearch eval bench bench-mattermost clean plugin plugin-pin plugin-test dist

help:
	@echo "make demo       set up, generate the demo workspace, import it, ask it questions"
	@echo "make test       every test, including end-to-end against a real Mattermost"
	@echo "make test-fast  the pure-core tests only (no server)"
	@echo "make soak       the long soak under faults against the real server (SOAK_SECONDS=1200)"
	@echo "make typecheck  mypy --strict"
	@echo "make lint-imports  the layer contracts (import-linter, pyproject.toml)"
	@echo "make eval       the expert-finding evaluation on every dev set (Stack Exchange and chat; ENGINE=tantivy)"
	@echo "make bench      the benchmark (SCALE=100k by default, SCALE=1m; ENGINE=whoosh or tantivy)"
	@echo "make bench-mattermost  /whoknows timed through a real Mattermost server (SCALE=100k, or 20k for a quick check)"
	@echo "make plugin     the Go plugin's binaries (linux-amd64, linux-arm64) in server/plugin/dist/"
	@echo "make dist       the plugin bundle dist/<id>-<version>.tar.gz (binaries, assets, the service's wheel)"

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

test: venv e2e-deps typecheck lint-imports plugin-test dist
	$(BIN)/pytest

SOAK_SECONDS ?= 1200

soak: venv e2e-deps
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest tests/e2e/test_soak.py -s

eval: venv
	mkdir -p var/eval
	for site in cardano beer; do \
	  $(BIN)/whoknows dataset stackexchange $(SHARED)/datasets/stackexchange/$$site \
	    --corpus var/eval/$$site.corpus.jsonl --queries var/eval/$$site.queries.jsonl && \
	  $(BIN)/whoknows eval --engine $(ENGINE) --corpus var/eval/$$site.corpus.jsonl --queries var/eval/$$site.queries.jsonl \
	    > var/eval/$$site.result.json || exit 1; \
	done
	for chat in elmlang-general-2019 gitter-docker; do \
	  $(BIN)/whoknows eval --engine $(ENGINE) --corpus $(SHARED)/datasets/chat/$$chat/corpus.jsonl --queries $(SHARED)/datasets/chat/$$chat/queries.jsonl \
	    > var/eval/$$chat.result.json || exit 1; \
	done
	$(BIN)/whoknows eval-report var/eval/cardano.result.json var/eval/beer.result.json \
	  var/eval/elmlang-general-2019.result.json var/eval/gitter-docker.result.json

SCALE ?= 100k
ENGINE ?= whoosh

bench: venv
	$(BIN)/python -m whoknows.bench --scale $(SCALE) --engine $(ENGINE) --out var/bench

# The same workspace in a real Mattermost (its bulk import), the bot backfilling it, /whoknows timed through
# POST /api/v4/commands/execute beside in-process. Its own database (WHOKNOWS_PG_DATABASE overrides it).
bench-mattermost: venv e2e-deps
	PYTHONPATH=tests $(BIN)/python -m bench --scale $(SCALE) --out var/bench

clean:
	rm -rf var build dist server/plugin/dist .mypy_cache .pytest_cache

# --- end-to-end harness: PostgreSQL and a Mattermost server built from its Go modules ---
e2e-deps: postgres mattermost opensearch

postgres:
	bash tests/mattermost/setup-postgres.sh

mattermost:
	bash tests/mattermost/build-mattermost.sh

# A single-node OpenSearch (tests/opensearch: its pom and a small launcher), built with Maven into the cache.
opensearch:
	bash tests/opensearch/build-opensearch.sh

# --- the Mattermost plugin: a Go adapter (server/plugin, its own module) and the bundle ---
# Built against the server/public version the test server pins (checked below); the go command's
# build cache makes a warm rebuild take seconds. GONOSUMDB as in build-mattermost.sh: go.sum holds
# the hashes of the pseudo-versions the checksum database does not know.
PLUGIN_DIR := server/plugin
PLUGIN_ARCHES := linux-amd64 linux-arm64
PLUGIN_ID := $(shell $(PYTHON) -c 'import json; print(json.load(open("plugin.json"))["id"])')
PLUGIN_VERSION := $(shell $(PYTHON) -c 'import json; print(json.load(open("plugin.json"))["version"])')
PLUGIN_GO_ENV := CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GONOSUMDB=github.com/mattermost/mattermost
PUBLIC_MOD := github.com/mattermost/mattermost/server/public
BUNDLE := dist/$(PLUGIN_ID)-$(PLUGIN_VERSION).tar.gz
STAGE := build/bundle/$(PLUGIN_ID)

plugin-pin:
	@want=$$(awk '$$1 == "$(PUBLIC_MOD)" { print $$2 }' tests/mattermost/go.mod); \
	have=$$(awk '$$1 == "require" && $$2 == "$(PUBLIC_MOD)" { print $$3 } $$1 == "$(PUBLIC_MOD)" { print $$2 }' $(PLUGIN_DIR)/go.mod | head -1); \
	if [[ "$$want" != "$$have" ]]; then \
	  echo "plugin: $(PLUGIN_DIR)/go.mod has $(PUBLIC_MOD) $$have, the test server pins $$want" >&2; exit 1; fi

plugin: plugin-pin
	@for arch in $(PLUGIN_ARCHES); do \
	  (cd $(PLUGIN_DIR) && $(PLUGIN_GO_ENV) GOOS=$${arch%-*} GOARCH=$${arch#*-} \
	    go build -trimpath -ldflags "-s -w" -o dist/plugin-$$arch .) || exit 1; \
	done

plugin-test: plugin-pin
	cd $(PLUGIN_DIR) && $(PLUGIN_GO_ENV) go vet ./... && $(PLUGIN_GO_ENV) go test ./...

# The bundle: <id>/plugin.json (plugin.json plus the plugin's link settings), the binaries, the
# assets (icons, templates) and service/ with the wheel and requirements.lock.
dist: plugin venv
	rm -rf $(STAGE) && mkdir -p $(STAGE)/server/dist $(STAGE)/service dist
	cd $(PLUGIN_DIR) && $(PLUGIN_GO_ENV) go run ./cmd/manifest ../../plugin.json link-settings.json ../../$(STAGE)/plugin.json
	cp $(foreach arch,$(PLUGIN_ARCHES),$(PLUGIN_DIR)/dist/plugin-$(arch)) $(STAGE)/server/dist/
	mkdir -p $(STAGE)/assets && cp -R webapp-assets/templates webapp-assets/icon.svg webapp-assets/bot-icon.png $(STAGE)/assets/
	$(BIN)/pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir $(STAGE)/service .
	cp requirements.lock $(STAGE)/service/
	tar -C build/bundle -czf $(BUNDLE).tmp $(PLUGIN_ID) && mv -f $(BUNDLE).tmp $(BUNDLE)
	@echo "dist: $(BUNDLE) ($$(du -h $(BUNDLE) | cut -f1))"
