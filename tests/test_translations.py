"""German is a complete second language: a string added anywhere without a translation fails here.

The test extracts every msgid from our templates and Python code exactly as `make messages` does
(Django's makemessages, which needs GNU gettext's xgettext), merges it into a copy of the
committed catalogue and fails on anything untranslated, fuzzy or with broken placeholders. It also
proves the committed .mo is compiled from the committed .po, so the server needs no gettext.
"""

from __future__ import annotations

import gettext
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
LOCALE_DIR = BASE_DIR / "locale"
PO_FILE = LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po"
MO_FILE = LOCALE_DIR / "de" / "LC_MESSAGES" / "django.mo"
# What customers, providers' staff and the sandbox's visitors read; not tests or tooling.
SOURCE_DIRS = ("templates", "accounts", "provider_auth")


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    # A request in German leaves German active in this thread (LocaleMiddleware activates the
    # request's language and nothing resets it); the next test on this worker would read
    # German messages where it expects English.
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _require_gettext() -> None:
    if shutil.which("xgettext") and shutil.which("msgmerge"):
        return
    message = (
        "GNU gettext (xgettext, msgmerge) is needed to extract messages: apt-get install gettext"
    )
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, locale="de")


@pytest.fixture(scope="module")
def extracted_catalogue(tmp_path_factory: pytest.TempPathFactory):
    """Every msgid in the code right now, extracted into a fresh, empty catalogue."""
    _require_gettext()
    work = tmp_path_factory.mktemp("messages")
    source = work / "src"
    source.mkdir()
    # A copy, not symlinks: makemessages writes temporary files next to each template.
    for name in SOURCE_DIRS:
        shutil.copytree(
            BASE_DIR / name,
            source / name,
            ignore=shutil.ignore_patterns("__pycache__", "migrations", "*.pyc", "static"),
        )
    cwd = os.getcwd()
    os.chdir(source)  # makemessages walks the current directory; ours holds no locale/
    try:
        with override_settings(LOCALE_PATHS=[str(work / "locale")]):
            call_command(
                "makemessages",
                locale=["de"],
                ignore_patterns=["migrations", "__pycache__"],
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    catalogue = _read(work / "locale" / "de" / "LC_MESSAGES" / "django.po")
    ids = {message.id for message in catalogue}
    # Extraction really ran over templates and Python (not an empty or stale catalogue).
    assert "Skip to content" in ids  # templates/base.html
    assert "Supply address" in ids  # Python (gettext_lazy in a form)
    return catalogue


def _translated(message) -> bool:
    if message.fuzzy:
        return False
    if isinstance(message.string, tuple):
        return all(message.string)
    return bool(message.string)


def test_every_message_in_templates_and_code_has_a_german_translation(extracted_catalogue) -> None:
    committed = _read(PO_FILE)
    missing = []
    for message in extracted_catalogue:
        if not message.id:
            continue
        translation_ = committed.get(message.id, context=message.context)
        if translation_ is None or not _translated(translation_):
            where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
            missing.append(f"{message.id!r} ({where})")
    assert not missing, (
        f"{len(missing)} message(s) lack a German translation; run `make messages`, translate "
        "them in locale/de/LC_MESSAGES/django.po, then `make compilemessages`:\n  "
        + "\n  ".join(missing[:40])
    )


def test_the_committed_catalogue_has_no_stale_or_broken_entries() -> None:
    catalogue = _read(PO_FILE)
    problems = [f"{message.id!r}: {errors}" for message, errors in catalogue.check()]
    assert not problems, "\n".join(problems)


def test_the_committed_mo_is_compiled_from_the_committed_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _read(PO_FILE))
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    with MO_FILE.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    # The header entry ("") is written differently by msgfmt and Babel; the messages must match.
    expected.pop("", None)
    committed.pop("", None)
    assert committed == expected, "locale/de/LC_MESSAGES/django.mo is stale: make compilemessages"


def test_accept_language_german_serves_german_pages() -> None:
    response = Client().get("/no-such-page/", secure=True, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    page = response.content.decode()
    assert '<html lang="de">' in page
    with translation.override("de"):
        assert translation.gettext("Page not found") in page
        assert translation.gettext("Page not found") != "Page not found"


def test_an_unsupported_language_falls_back_to_english() -> None:
    response = Client().get("/no-such-page/", secure=True, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Page not found" in page


@pytest.mark.django_db
def test_the_language_switcher_remembers_the_choice_and_returns_to_the_page() -> None:
    client = Client()
    response = client.post(
        "/i18n/setlang/", {"language": "de", "next": "/no-such-page/"}, secure=True
    )
    assert response.status_code in (302, 303)
    assert response["Location"] == "/no-such-page/"
    page = client.get("/no-such-page/", secure=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de">' in page


@pytest.mark.django_db
def test_the_language_switcher_refuses_to_send_the_browser_to_another_site() -> None:
    response = Client().post(
        "/i18n/setlang/", {"language": "de", "next": "https://evil.example/"}, secure=True
    )
    assert "evil.example" not in response.get("Location", "")
