# HybridReview: `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test install lint ci bench constraints clean

# Reinstall only when the dependency declarations change, so a second
# `make run` starts in seconds.
$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@echo "Log in at http://127.0.0.1:$(PORT)/ as analyst, approver, approver2, admin, consumer, auditor or operator (password above)."
	PORT=$(PORT) exec $(BIN)/python manage.py run_stack --port $(PORT)

test: install
	DJANGO_SETTINGS_MODULE=hybridreview.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy quantum hybridreview jobs approvals
	DJANGO_SETTINGS_MODULE=hybridreview.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=hybridreview.settings.test $(BIN)/python manage.py spectacular --fail-on-warn --file var/openapi.yaml
	DJANGO_SETTINGS_MODULE=hybridreview.settings.production \
	  SECRET_KEY=ci-$$(date +%s)-a-long-random-looking-production-secret-key-value \
	  ALLOWED_HOSTS=hybridreview.example.org DATABASE_URL=$${DATABASE_URL:-sqlite:///var/check.sqlite3} \
	  CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} \
	  CACHE_URL=$${CACHE_URL:-redis://127.0.0.1:6379/1} \
	  CREDENTIALS_KEYS=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m bench.solvers

# Re-pin every package after changing pyproject.toml (review the diff).
constraints:
	rm -rf /tmp/hr-constraints && $(PYTHON) -m venv /tmp/hr-constraints
	/tmp/hr-constraints/bin/pip install --quiet -e '.[dev,bench]'
	{ head -2 requirements/constraints.txt; /tmp/hr-constraints/bin/pip freeze --exclude-editable | grep -v '^-e'; } > requirements/constraints.new
	mv requirements/constraints.new requirements/constraints.txt

clean:
	rm -rf $(VENV) var
