# The two commands a newcomer needs: `make demo` and `make test`. Everything else is plumbing.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo demo-setup demo-check demo-oidc oidc-provider test install lint typecheck pytest migrate seed serve-demo clean chromium bench deploy-check messages compilemessages screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: set up and serve the demo with the built-in FlatPeak sandbox on http://127.0.0.1:8000/
# The demo plays both sides: our endpoint and, under /sandbox/, FlatPeak and a device maker's app.
DEMO_PORT ?= 8000
DEMO_ENV := DEBUG=true SANDBOX_ENABLED=true PUBLIC_BASE_URL=http://127.0.0.1:$(DEMO_PORT) \
	FLATPEAK_API_URL=http://127.0.0.1:$(DEMO_PORT)/sandbox/api FLATPEAK_ACCOUNT_ID=acc_demo \
	FLATPEAK_API_KEY=sk_demo_sandbox_key FLATPEAK_REDIRECT_HOSTS=127.0.0.1:$(DEMO_PORT),localhost:$(DEMO_PORT) \
	ALLOWED_HOSTS=127.0.0.1,localhost SANDBOX_OAUTH_CLIENT_SECRET=cs_demo_sandbox_client_secret \
	LOG_FORMAT=console
demo: demo-setup
	@echo
	@echo "  Demo ready. Open http://127.0.0.1:$(DEMO_PORT)/sandbox/ (the device maker's app, playing FlatPeak)"
	@echo "  and press 'Connect my tariff'. Log in as one of the seed_demo customers:"
	@echo "    alice@example.com / alice-demo-pass   one address, an import tariff"
	@echo "    bob@example.com   / bob-demo-pass     two addresses, import and export (try EXPORT)"
	@echo "    carol@example.com / carol-demo-pass   no active tariff (NO_TARIFF)"
	@echo "  Recent sessions: http://127.0.0.1:$(DEMO_PORT)/sandbox/sessions/  ·  Stop with Ctrl+C"
	@echo
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(DEMO_PORT)

# Everything but the server (CI runs it, then starts the server itself: scripts/demo-check.sh).
demo-setup: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py sandbox_setup

## demo-check: start the demo server in the background, run flatpeak_check against it, stop it
demo-check: install
	scripts/demo-check.sh

## test: set up and run the whole test suite (DATABASE_URL picks the database; SQLite by default)
test: install chromium oidc-provider lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# SANDBOX_ENABLED installs the sandbox app, so its models and migrations are checked too.
lint: export DEBUG ?= true
lint: export SANDBOX_ENABLED ?= true
lint: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run

typecheck: export DEBUG ?= true
typecheck: export SANDBOX_ENABLED ?= true
typecheck: install
	$(BIN)/mypy provider_auth accounts flatpeak_check sandbox

# The relying-party tests run against a real OpenID Provider (panva's oidc-provider, pinned in
# tests/oidc_provider/package-lock.json). Installed when npm exists; without it those tests skip
# with a reason (CI sets REQUIRE_OIDC_PROVIDER=1 and fails instead).
OP_DIR := tests/oidc_provider
$(OP_DIR)/node_modules/.installed: $(OP_DIR)/package-lock.json
	npm ci --prefix $(OP_DIR) --no-audit --no-fund
	touch $@
oidc-provider:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(OP_DIR)/node_modules/.installed; \
	else echo "npm not found: the OpenID Provider tests will skip (install Node.js 20+ to run them)"; fi

## demo-oidc: the demo with the test identity provider beside it and local passwords off
# Log in at http://127.0.0.1:$(OIDC_DEMO_PORT) as alice, bob or carol (any password).
OIDC_DEMO_PORT ?= 9010
OIDC_DEMO_ENV := OIDC_ISSUER=http://127.0.0.1:$(OIDC_DEMO_PORT) OIDC_CLIENT_ID=provider-auth-test \
	OIDC_CLIENT_SECRET=test-client-secret-not-for-production OIDC_SCOPES="openid email" \
	OIDC_CUSTOMER_CLAIM=email OIDC_DISPLAY_NAME="Lunar Energy" LOCAL_LOGIN_ENABLED=false
demo-oidc: demo-setup oidc-provider
	@echo
	@echo "  Demo with the test identity provider on http://127.0.0.1:$(OIDC_DEMO_PORT) (local passwords off)."
	@echo "  Open http://127.0.0.1:$(DEMO_PORT)/sandbox/, press 'Connect my tariff', then"
	@echo "  'Continue with Lunar Energy account' and log in there as alice, bob or carol (any password)."
	@echo
	node $(OP_DIR)/server.mjs --port $(OIDC_DEMO_PORT) \
	  --redirect-uri http://127.0.0.1:$(DEMO_PORT)/oidc/callback \
	  --backchannel-logout-uri http://127.0.0.1:$(DEMO_PORT)/oidc/backchannel-logout \
	  --post-logout-redirect-uri http://127.0.0.1:$(DEMO_PORT)/account/login/ & \
	  op=$$!; trap "kill $$op" EXIT; \
	  $(DEMO_ENV) $(OIDC_DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(DEMO_PORT)

# Browser tests use Debian's Chromium; install it when we can (root), otherwise they skip/fail
# with a clear reason (CI sets REQUIRE_CHROMIUM=1).
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@# tests/test_translations.py extracts messages with GNU gettext's xgettext.
	@if ! command -v xgettext >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing GNU gettext for the translation test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	fi

## screenshots: run the browser tests and refresh the key screenshots shown in the README
DOC_SCREENSHOTS := sandbox-app login login-wrong-password choose-address consent de-consent no-tariff flatpeak-unavailable connect-web-authorised connected-apps account-home rebranded-consent
screenshots: install chromium
	$(BIN)/python -m pytest tests/browser -q
	for name in $(DOC_SCREENSHOTS); do cp test-artifacts/screenshots/$$name.png docs/screenshots/; done

## messages: collect every translatable string into locale/de/LC_MESSAGES/django.po (GNU gettext)
# tests/test_translations.py fails while any of them lacks a German translation.
messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l de --no-obsolete \
	  --ignore=tests --ignore=benchmarks --ignore=deploy --ignore=docs --ignore=staticfiles \
	  --ignore=test-artifacts --ignore=migrations

## compilemessages: compile the .po into the .mo that is committed (the server needs no gettext)
compilemessages: install
	DEBUG=true $(BIN)/python manage.py compilemessages -l de --ignore=.venv --ignore=staticfiles

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts

## bench: the load benchmark (PostgreSQL, Redis, wrk); writes docs/performance.md
bench: install
	benchmarks/run.sh $(BENCH_ARGS)

## deploy-check: validate deploy/ and serve the app with deploy/gunicorn.conf.py
deploy-check: install
	deploy/validate.sh
