"""The OAuth scopes this server grants, by name: one place to read and change them.

One scope per data type a partner may read through the tariff API: the tariff and its rates,
the contract's start and end dates, the supply address. FlatPeak's connect flow asks for all
of them; what each shows the customer is in `provider_auth.consent.scopes`.
"""

from __future__ import annotations

TARIFF_READ = "tariff:read"
CONTRACT_READ = "contract:read"
ADDRESS_READ = "address:read"
# Also the order of display on the consent page and the connected-apps page.
SCOPES_SUPPORTED = (TARIFF_READ, CONTRACT_READ, ADDRESS_READ)
