"""Settings for the test suite: the production module plus what tests need, chosen explicitly.

pytest selects this module (`DJANGO_SETTINGS_MODULE` in pyproject.toml); nothing in
`provider_auth.settings` looks at what is imported, so a production process that happens to
import pytest keeps production settings. The suite runs with `DEBUG` off, as production does.
"""

from __future__ import annotations

import os

# The production module refuses to start without SECRET_KEY when DEBUG is off; the suite brings
# a throw-away key of its own (set before the import, which checks it).
os.environ.setdefault("SECRET_KEY", "test-suite-only-key-not-secret-5c1e9f0a7b3d2e4f6a8b0c1d2e3f")

from provider_auth.settings import *  # noqa: E402, F403
from provider_auth.settings import BASE_DIR, INSTALLED_APPS, PASSWORD_HASHERS  # noqa: E402

TESTING = True

# Argon2 would dominate the suite's run time; tests that need a real hasher ask for it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *[h for h in PASSWORD_HASHERS if not h.endswith("MD5PasswordHasher")],
]

# No collectstatic before a test run: serve static files from the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Not the production STATIC_ROOT: tests that serve the app with production settings run
# collectstatic into that one, and a worker scanning it while files are renamed there crashed.
STATIC_ROOT = BASE_DIR / "test-artifacts" / "no-static-root"

# The sandbox app is installed for every test (its tables and URLs exist), switched on or off
# per test with SANDBOX_ENABLED, which each of its views checks per request.
if "sandbox" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
