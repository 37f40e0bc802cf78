"""A provider rebrands every page with settings alone; unsafe brand settings never reach a page."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from provider_auth import branding

PAGE_BACKGROUND = branding.PAGE_BACKGROUND


@pytest.fixture
def client() -> Client:
    return Client()


def test_contrast_of_black_on_white_is_the_maximum_of_21() -> None:
    assert branding.colour_contrast(first="#000000", second="#ffffff") == pytest.approx(21)


@pytest.mark.spec("WCAG22 1.4.3")
def test_the_demo_blue_is_kept_as_it_is_because_it_already_reads_at_aa() -> None:
    with override_settings(BRAND_PRIMARY_COLOUR="#1d4ed8"):
        brand = branding.brand_get()
    assert brand.primary_colour == "#1d4ed8"
    assert brand.on_primary_colour == "#ffffff"
    assert brand.primary_text_colour == "#1d4ed8"


@pytest.mark.spec("WCAG22 1.4.3")
@pytest.mark.parametrize("colour", ["#facc15", "#ffffff", "#22c55e", "#FC0"])
def test_a_light_brand_colour_gets_dark_button_text_and_a_darkened_link_colour(
    colour: str,
) -> None:
    with override_settings(BRAND_PRIMARY_COLOUR=colour):
        brand = branding.brand_get()
    on_button = branding.colour_contrast(first=brand.on_primary_colour, second=brand.primary_colour)
    as_text = branding.colour_contrast(first=brand.primary_text_colour, second=PAGE_BACKGROUND)
    assert on_button >= 4.5
    assert as_text >= 4.5
    assert as_text < 5.5  # darkened only as far as needed, so it still looks like the brand


@pytest.mark.parametrize("colour", ["blue", "#12345", "#12345g", "red; } body { display:none"])
def test_a_colour_that_is_not_hex_falls_back_to_the_default(colour: str) -> None:
    with override_settings(BRAND_PRIMARY_COLOUR=colour):
        assert branding.brand_get().primary_colour == branding.DEFAULT_PRIMARY_COLOUR


def test_brand_css_carries_the_colours_and_may_be_cached(client: Client) -> None:
    with override_settings(BRAND_PRIMARY_COLOUR="#0F766E"):
        response = client.get("/brand.css", secure=True)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/css")
    body = response.content.decode()
    assert "--brand: #0f766e;" in body
    assert "--on-brand: #ffffff;" in body
    assert "max-age=86400" in response["Cache-Control"]


def test_the_brand_css_link_changes_when_the_colour_changes(client: Client) -> None:
    with override_settings(BRAND_PRIMARY_COLOUR="#0f766e"):
        first = branding.brand_get().css_version
    with override_settings(BRAND_PRIMARY_COLOUR="#7c3aed"):
        second = branding.brand_get().css_version
        page = client.get("/no-such-page/", secure=True).content.decode()
    assert first != second
    assert f"/brand.css?v={second}" in page


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("BRAND_SUPPORT_URL", "javascript:alert(1)"),
        ("BRAND_PRIVACY_URL", "http://plain.example/privacy"),
        ("BRAND_SUPPORT_URL", "//evil.example/"),
    ],
)
def test_a_footer_link_that_is_not_https_is_not_shown(
    client: Client, setting: str, value: str
) -> None:
    with override_settings(**{setting: value}):
        page = client.get("/no-such-page/", secure=True).content.decode()
    assert value not in page


@pytest.mark.parametrize(
    "value", ["http://cdn.example/logo.svg", "javascript:alert(1)", "../../secret.txt", "//x/y"]
)
def test_a_logo_that_is_neither_https_nor_a_static_path_is_dropped(value: str) -> None:
    with override_settings(BRAND_LOGO=value):
        assert branding.brand_get().logo_url == ""


def test_custom_css_must_be_one_of_our_static_files_because_csp_allows_only_self() -> None:
    with override_settings(BRAND_CUSTOM_CSS="https://cdn.example/brand.css"):
        assert branding.brand_get().custom_css_url == ""
    with override_settings(BRAND_CUSTOM_CSS="brand/provider.css"):
        assert branding.brand_get().custom_css_url == "/static/brand/provider.css"


def test_a_provider_rebrands_every_page_with_settings_alone(client: Client) -> None:
    rebrand: dict[str, Any] = {
        "BRAND_NAME": "Solar & Co",
        "BRAND_LOGO": "https://assets.solar.example/logo.svg",
        "BRAND_PRIMARY_COLOUR": "#0f766e",
        "BRAND_SUPPORT_URL": "https://solar.example/help",
        "BRAND_PRIVACY_URL": "mailto:privacy@solar.example",
        "BRAND_CUSTOM_CSS": "brand/solar.css",
    }
    with override_settings(**rebrand):
        response = client.get("/no-such-page/", secure=True)
        css = client.get("/brand.css", secure=True).content.decode()
    page = response.content.decode()
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Solar &amp; Co" in page  # escaped, in the title and the header
    assert "Lunar" not in page
    assert 'src="https://assets.solar.example/logo.svg"' in page
    assert 'href="https://solar.example/help"' in page
    assert 'href="mailto:privacy@solar.example"' in page
    assert 'href="/static/brand/solar.css"' in page
    assert '<meta name="theme-color" content="#0f766e">' in page
    assert "--brand: #0f766e;" in css


def test_the_demo_brand_is_lunar_energy(client: Client) -> None:
    page = client.get("/no-such-page/", secure=True).content.decode()
    assert settings.BRAND_NAME == "Lunar Energy"
    assert "Lunar Energy" in page
    assert 'src="/static/brand/lunar-logo.svg"' in page


def test_a_provider_template_directory_overrides_one_block_of_the_base_template(
    client: Client, tmp_path: Path
) -> None:
    # Django resolves `{% extends "base.html" %}` inside an override to the next base.html in the
    # search path, so a provider changes one block and inherits the rest.
    (tmp_path / "base.html").write_text(
        '{% extends "base.html" %}{% block brand %}<span class="brand">'
        "Provider header</span>{% endblock %}"
    )
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    with override_settings(TEMPLATES=templates, BRAND_TEMPLATES_DIR=str(tmp_path)):
        page = client.get("/no-such-page/", secure=True).content.decode()
    assert "Provider header" in page
    assert "Page not found" in page  # the page's own content still comes from our templates
    assert "brand-name" not in page


def test_the_brand_templates_directory_is_searched_before_ours() -> None:
    # settings.py builds DIRS from BRAND_TEMPLATES_DIR; with it unset only ours remain.
    dirs = settings.TEMPLATES[0]["DIRS"]
    assert dirs[-1] == str(Path(settings.BASE_DIR) / "templates")
    if settings.BRAND_TEMPLATES_DIR:
        assert dirs[0] == settings.BRAND_TEMPLATES_DIR


def _page_templates() -> list[Path]:
    """Every full page we render: partials start with "_" or live in includes/; the admin's
    own pages extend the admin's base."""
    roots = [Path(settings.BASE_DIR) / "templates"]
    roots += [p for p in Path(settings.BASE_DIR).glob("*/templates") if p not in roots]
    roots += list(Path(settings.BASE_DIR).glob("provider_auth/*/templates"))
    pages = []
    for root in roots:
        for path in root.rglob("*.html"):
            relative = path.relative_to(root)
            if path.name == "base.html" and relative.parent == Path("."):
                continue
            if path.name.startswith("_") or "includes" in relative.parts:
                continue
            if "admin" in relative.parts:
                continue
            pages.append(path)
    return pages


def test_every_page_template_extends_the_one_base_template_a_provider_can_override() -> None:
    pages = _page_templates()
    assert len(pages) > 10
    strays = [
        str(path.relative_to(settings.BASE_DIR))
        for path in pages
        if '{% extends "base.html" %}' not in path.read_text()
    ]
    assert not strays, f"these pages do not extend base.html: {strays}"


def test_the_page_icon_is_the_logo_or_our_own_file_never_a_data_url(client: Client) -> None:
    page = client.get("/no-such-page/", secure=True).content.decode()
    assert '<link rel="icon" href="/static/brand/lunar-logo.svg">' in page
    with override_settings(BRAND_LOGO=""):
        page = client.get("/no-such-page/", secure=True).content.decode()
    assert '<link rel="icon" href="/static/brand/icon.svg">' in page
    assert "data:" not in page
