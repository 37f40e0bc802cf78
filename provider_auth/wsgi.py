"""WSGI entry point (gunicorn provider_auth.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provider_auth.settings")

application = get_wsgi_application()
