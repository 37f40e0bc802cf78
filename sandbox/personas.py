"""The device makers the sandbox can play. One of them is hostile on purpose.

`logo` is a static path (made absolute per request), a PNG because the provider fetches logos
server-side and refuses SVG (script in an image); the hostile persona carries raw strings
that a careless template or URL check would turn into script execution.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Persona:
    slug: str
    account_id: str
    display_name: str
    description: str | Promise
    logo: str = ""  # static path, or a raw URL when `raw_links`
    terms_url: str = ""
    privacy_url: str = ""
    support_url: str = ""
    raw_links: bool = False  # hostile: links are sent as-is, not made absolute


PERSONAS: tuple[Persona, ...] = (
    Persona(
        slug="heatwise",
        account_id="acc_sbx_heatwise",
        display_name="HeatWise Heat Pumps",
        description=_("A heat-pump maker with a logo and all policy links."),
        logo="sandbox/logos/heatwise.png",
        terms_url="https://heatwise.example/terms",
        privacy_url="https://heatwise.example/privacy",
        support_url="https://heatwise.example/support",
    ),
    Persona(
        slug="voltcar",
        account_id="acc_sbx_voltcar",
        display_name="VoltCar EV Charging",
        description=_("An EV charger app that schedules charging on cheap hours."),
        logo="sandbox/logos/voltcar.png",
        terms_url="https://voltcar.example/legal/terms",
        privacy_url="https://voltcar.example/legal/privacy",
        support_url="https://voltcar.example/help",
    ),
    Persona(
        slug="minimal",
        account_id="acc_sbx_minimal",
        display_name="Minimal Battery Co",
        description=_("Only a display name: no logo, no links (all optional in the contract)."),
    ),
    Persona(
        slug="hostile",
        account_id="acc_sbx_hostile",
        display_name='<script>alert("fp")</script><img src=x onerror=alert(1)> Evil & "Co"',
        description=_(
            "Hostile text: a <script> in its name, a javascript: privacy link, an http: terms "
            "link and a javascript: logo. Our pages must show it inert."
        ),
        logo="javascript:alert(document.domain)",
        terms_url="http://insecure.example/terms",
        privacy_url="javascript:alert(document.cookie)",
        support_url='https://evil.example/"><script>alert(2)</script>',
        raw_links=True,
    ),
)

PERSONAS_BY_SLUG = {persona.slug: persona for persona in PERSONAS}
