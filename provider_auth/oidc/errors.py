"""What can go wrong talking to the identity provider, by what the customer should see."""

from __future__ import annotations


class OidcError(Exception):
    """Base class; `reason` is a short machine-readable code for logs and audit events."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class OidcUnavailable(OidcError):
    """The identity provider did not answer in time, or answered with a server error."""


class OidcInvalid(OidcError):
    """A response that fails validation: never a session, a 400 page and an audit event."""
