# Two commands: `make up` runs the product locally, `make test` runs the tests. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test install clean users

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/python -m infra.local $(if $(SECRET_KEY),--secret-key $(SECRET_KEY))

# Users of the running local stack (multi-user mode: make up SECRET_KEY=...), e.g. ARGS="create alice --admin".
users: $(STAMP)
	AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
	  $(BIN)/python -m chalicelib.user_cli --endpoint http://127.0.0.1:$${PLYNX_MOTO_PORT:-5010} $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .local-data .pytest_cache
