"""The OAuth scopes this server grants, by name: one place to read and change them.

`tariff:read` lets FlatPeak read a customer's tariff through the tariff API; it is the only
scope there is, and every grant carries it.
"""

from __future__ import annotations

TARIFF_READ = "tariff:read"
SCOPES_SUPPORTED = (TARIFF_READ,)
