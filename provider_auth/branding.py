"""The provider's brand, read from settings alone, made safe to put on every page.

Threat: brand settings are operator input that lands on every page, including the consent page.
A colour that fails contrast, a logo on another host, a stylesheet CSP would block, or a
`javascript:` link would quietly break accessibility or security; each is replaced by a safe
default here (and logged once) instead of reaching the template.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static

logger = logging.getLogger(__name__)

DEFAULT_PRIMARY_COLOUR = "#1d4ed8"
PAGE_BACKGROUND = "#f3f4f6"  # site.css --page; the lightest background text sits on
WHITE = "#ffffff"
INK = "#111827"  # site.css --ink
AA_TEXT_CONTRAST = 4.5  # WCAG 2.2 SC 1.4.3 for normal-size text

_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_STATIC_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


@dataclass(frozen=True)
class Brand:
    name: str
    logo_url: str
    icon_url: str  # the logo, or a neutral icon of ours (never a data: URL, which CSP refuses)
    primary_colour: str
    on_primary_colour: str  # text on a primary-coloured button
    primary_text_colour: str  # the primary colour as link/text on the page background
    support_url: str
    privacy_url: str
    custom_css_url: str
    css_version: str  # changes whenever brand.css would, so it can be cached for long


# --- Colour maths (WCAG 2.2 relative luminance and contrast ratio) ---------------------------
def colour_normalise(*, value: str) -> str | None:
    """'#ABC' or '#aabbcc' as '#aabbcc'; None for anything else."""
    if not _HEX_COLOUR.match(value or ""):
        return None
    digits = value[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def _channels(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colour_luminance(*, colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def colour_contrast(*, first: str, second: str) -> float:
    light, dark = sorted(
        (colour_luminance(colour=first), colour_luminance(colour=second)), reverse=True
    )
    return (light + 0.05) / (dark + 0.05)


def colour_darken_until_readable(*, colour: str, background: str) -> str:
    """The colour itself, or the least-darkened version of it that reaches AA on `background`."""
    r, g, b = _channels(colour)
    for step in range(0, 101):
        keep = 1 - step / 100
        candidate = f"#{round(r * keep):02x}{round(g * keep):02x}{round(b * keep):02x}"
        if colour_contrast(first=candidate, second=background) >= AA_TEXT_CONTRAST:
            return candidate
    return "#000000"


def colour_text_on(*, background: str) -> str:
    """White or ink, whichever reads better on `background` (a light brand gets dark text)."""
    if colour_contrast(first=WHITE, second=background) >= AA_TEXT_CONTRAST:
        return WHITE
    return max((WHITE, INK), key=lambda text: colour_contrast(first=text, second=background))


# --- Assets and links ----------------------------------------------------------------------
def _static_url(*, setting: str, value: str) -> str:
    if not _STATIC_PATH.match(value) or ".." in value:
        logger.warning("%s is neither an https URL nor a static path; ignored", setting)
        return ""
    try:
        return static(value)
    except ValueError:
        # ManifestStaticFilesStorage raises for a file collectstatic never saw: one missing
        # logo must not turn every page into a 500.
        logger.warning("%s names a static file that does not exist; ignored", setting)
        return ""


def brand_logo_url(*, value: str) -> str:
    """An https URL (CSP img-src allows its origin) or one of our own static files."""
    if not value:
        return ""
    if value.startswith("https://"):
        return value
    return _static_url(setting="BRAND_LOGO", value=value)


def brand_stylesheet_url(*, value: str) -> str:
    """Our own static files only: CSP allows `style-src 'self'`, and no page loads third parties."""
    if not value:
        return ""
    if "://" in value or value.startswith("//"):
        logger.warning("BRAND_CUSTOM_CSS must be a static path, not a URL; ignored")
        return ""
    return _static_url(setting="BRAND_CUSTOM_CSS", value=value)


def brand_link_url(*, setting: str, value: str) -> str:
    """https links (http only in DEBUG) and mailto:; anything else, e.g. javascript:, is dropped."""
    if not value:
        return ""
    if value.startswith(("https://", "mailto:")) or (
        settings.DEBUG and value.startswith("http://")
    ):
        return value
    logger.warning("%s is not an https or mailto: link; not shown", setting)
    return ""


@cache
def brand_get() -> Brand:
    """The brand for this process (settings change only with a restart, or in tests)."""
    primary = colour_normalise(value=settings.BRAND_PRIMARY_COLOUR)
    if primary is None:
        logger.warning("BRAND_PRIMARY_COLOUR is not a #rrggbb colour; using the default")
        primary = DEFAULT_PRIMARY_COLOUR
    on_primary = colour_text_on(background=primary)
    logo_url = brand_logo_url(value=settings.BRAND_LOGO)
    primary_text = colour_darken_until_readable(colour=primary, background=PAGE_BACKGROUND)
    return Brand(
        name=settings.BRAND_NAME,
        logo_url=logo_url,
        icon_url=logo_url or _static_url(setting="brand icon", value="brand/icon.svg"),
        primary_colour=primary,
        on_primary_colour=on_primary,
        primary_text_colour=primary_text,
        support_url=brand_link_url(setting="BRAND_SUPPORT_URL", value=settings.BRAND_SUPPORT_URL),
        privacy_url=brand_link_url(setting="BRAND_PRIVACY_URL", value=settings.BRAND_PRIVACY_URL),
        custom_css_url=brand_stylesheet_url(value=settings.BRAND_CUSTOM_CSS),
        css_version=hashlib.sha256(f"{primary}{on_primary}{primary_text}".encode()).hexdigest()[
            :12
        ],
    )


def brand_stylesheet(*, brand: Brand) -> str:
    """The brand colours as CSS custom properties, consumed by static/css/site.css."""
    return (
        ":root {\n"
        f"  --brand: {brand.primary_colour};\n"
        f"  --on-brand: {brand.on_primary_colour};\n"
        f"  --brand-text: {brand.primary_text_colour};\n"
        "}\n"
    )


@receiver(setting_changed)
def _forget_brand(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("BRAND_") or setting in {"DEBUG", "STATIC_URL", "STORAGES"}:
        brand_get.cache_clear()
