"""Typed errors of the FlatPeak API client. Callers branch on the class, never on text."""

from __future__ import annotations


class FlatPeakError(Exception):
    """Base class. `status` is FlatPeak's HTTP status when there was an answer."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FlatPeakUnavailable(FlatPeakError):
    """Transient: timeout, connection error, 429, 5xx or an unreadable body. Worth a retry."""


class FlatPeakMisconfigured(FlatPeakError):
    """401/403: our credentials or paths are wrong. An operator problem, not the customer's."""


class FlatPeakNotFound(FlatPeakError):
    """404/410: the connect token is unknown to FlatPeak or has expired."""


class FlatPeakRejected(FlatPeakError):
    """FlatPeak answered, permanently refusing the request or with an unusable answer."""
