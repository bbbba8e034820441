# Two commands: `make up` runs the product locally, `make test` runs the tests. Both install what they need.
# The venv's interpreter: PYTHON if given; else the system's own python3.11 when it has one (Debian's and Ubuntu's
# are built with profile-guided optimisation and libpython linked in: the local stack runs 10-20% faster on it than
# on an --enable-shared build such as pyenv's, bench/overhead.py), else python3.11 on PATH, else python3; when the
# system's cannot make a venv (no python3.11-venv package), the one on PATH does.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(wildcard /usr/bin/python3.11) $(shell command -v python3.11) python3)
PATH_PYTHON := $(firstword $(shell command -v python3.11) python3)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test install clean users export import package deploy infra chalice-deploy teardown ui chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) $(if $(PATH_PYTHON),|| { rm -rf $(VENV); $(PATH_PYTHON) -m venv $(VENV); })
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The web UI: `npm ci` when the lock file changes, `vite build` when a source changes (stamp files).
UI_SOURCES := $(shell find ui/src ui/public -type f) ui/index.html ui/package.json ui/tsconfig.json ui/vite.config.ts
UI_BUILT := ui/dist/.built

ui/node_modules/.installed: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

$(UI_BUILT): ui/node_modules/.installed $(UI_SOURCES)
	cd ui && npm run build
	touch $@

ui: $(UI_BUILT)

# The browser tests drive Debian's chromium (CI runs as root on a clean Debian machine).
chromium:
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

up: $(STAMP) $(UI_BUILT)
	$(BIN)/python -m infra.local $(if $(SECRET_KEY),--secret-key $(SECRET_KEY))

# Users of the running local stack (multi-user mode: make up SECRET_KEY=...), e.g. ARGS="create alice --admin".
# Its moto takes only requests signed with the stack's own key, which it writes to the data dir.
users: $(STAMP)
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE AWS_DEFAULT_REGION=us-east-1 \
	  AWS_SHARED_CREDENTIALS_FILE=$${PLYNX_DATA_DIR:-.local-data}/aws-credentials \
	  $(BIN)/python -m chalicelib.api.user_cli --endpoint http://127.0.0.1:$${PLYNX_MOTO_PORT:-5010} $(ARGS)

# Export the running local stack's data to DIR, or import DIR into it (README, "Export and import").
# (The targets are named through a variable: a line starting with `export` is make's export directive.)
TRANSFER := export import
$(TRANSFER): $(STAMP)
	test -n "$(DIR)" || (echo "usage: make $@ DIR=path" >&2; exit 2)
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE AWS_DEFAULT_REGION=us-east-1 \
	  AWS_SHARED_CREDENTIALS_FILE=$${PLYNX_DATA_DIR:-.local-data}/aws-credentials \
	  $(BIN)/python -m chalicelib.api.transfer_cli --endpoint http://127.0.0.1:$${PLYNX_MOTO_PORT:-5010} $@ $(DIR)

# The ASL validator the compiler's tests run (npm asl-validator, pinned by tests/asl/package-lock.json).
tests/asl/node_modules/.installed: tests/asl/package.json tests/asl/package-lock.json
	cd tests/asl && npm ci --no-audit --no-fund
	touch $@

# The engine's tests run a second time without the local stack's moto speed-ups (infra/local/patches.py):
# they must pass on moto's own code paths too. Only in a full run (no PYTEST_ARGS).
ENGINE_TESTS := $(wildcard tests/functional/test_engine_*.py) tests/functional/test_composite.py
# The fast subset (PYTEST_ARGS='-m "not slow"') starts no stack: it needs neither the UI build nor Chromium.
FAST_SUBSET := $(findstring not slow,$(PYTEST_ARGS))

test: $(STAMP) tests/asl/node_modules/.installed $(if $(FAST_SUBSET),,$(UI_BUILT) chromium)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(if $(PYTEST_ARGS),,PLYNX_LOCAL_FAST=0 $(BIN)/python -m pytest -q $(ENGINE_TESTS))

# Cloud deployment, one stack per stage (README, "Deploying to AWS"): package is offline, no credentials.
STAGE ?= dev
package: $(STAMP) $(UI_BUILT)
	$(BIN)/python -m infra.deploy package --stage $(STAGE)

deploy: $(STAMP) $(UI_BUILT)
	$(BIN)/python -m infra.deploy deploy --stage $(STAGE) $(ARGS)

# The Chalice way (README, "Deploy with Chalice"): the stage's stack without the API, and .chalice/ written
# for it; then `make chalice-deploy` deploys the API (`.venv/bin/chalice delete --stage $(STAGE)` removes it).
infra: $(STAMP) $(UI_BUILT)
	$(BIN)/python -m infra.deploy infra --stage $(STAGE) $(ARGS)

# `chalice deploy --stage $(STAGE)`, then the `gateway` step it needs after every deploy (bytes for any Accept;
# stops if the API does not allow the stage's UI). After `make infra`; Chalice's own arguments go in CHALICE_ARGS.
chalice-deploy: $(STAMP)
	$(BIN)/chalice deploy --stage $(STAGE) $(CHALICE_ARGS)
	$(BIN)/python -m infra.deploy gateway --stage $(STAGE)

teardown: $(STAMP)
	$(BIN)/python -m infra.deploy teardown --stage $(STAGE) $(ARGS)

clean:
	rm -rf $(VENV) .local-data .pytest_cache
