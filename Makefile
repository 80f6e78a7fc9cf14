# Handoff: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test bench lint venv clean

venv: $(VENV)/.installed

# Reinstalls whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@python_bin=$$(scripts/find-python) && \
	  { [ -x $(PY) ] || "$$python_bin" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,bench]"
	@touch $@

## make run: set up, load demo data, start web + Celery worker + beat (Ctrl-C stops all)
# The embedded default as a user meets it: debug off, so Django's technical
# pages never show (developers opt in with `DEBUG=true make run`); plain HTTP
# on loopback; static files served from the apps' folders (see
# STATIC_FROM_SOURCE in config/settings.py); and a secret key made once in
# var/ and kept there, so sessions outlive a restart; links in emails point
# at the port it serves. Variables already set in the environment win.
RUN_ENV = DEBUG="$${DEBUG:-false}" HTTPS="$${HTTPS:-false}" \
	STATIC_FROM_SOURCE="$${STATIC_FROM_SOURCE:-true}" \
	SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret-key)}" \
	SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}"
# honcho runs the Procfile's commands through the shell with the caller's PATH:
# the venv goes first so that `python` and `celery` there are the project's.
# `-p` is the $PORT honcho hands to the first Procfile entry, web.
run: venv var/secret-key
	@$(RUN_ENV) $(PY) manage.py migrate --noinput
	@$(RUN_ENV) $(PY) manage.py seed_demo --url http://127.0.0.1:$(PORT)/
	@echo "Starting Handoff on http://127.0.0.1:$(PORT)/ (web, worker, beat)."
	@echo "Logins are printed above. Ctrl-C stops all."
	@$(RUN_ENV) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile -p $(PORT)

# Readable by its owner only; never committed (var/ is ignored by git).
var/secret-key: | venv
	@mkdir -p var
	@umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

## make test: throwaway PostgreSQL and Redis on loopback, then lint and the whole suite
test: venv
	scripts/system-packages
	scripts/run-tests

## make bench: benchmarks in bench/, against their own PostgreSQL and Redis
bench: venv
	scripts/system-packages
	scripts/run-bench

## make lint: the static checks make test starts with (style, layering, types)
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=true $(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var
