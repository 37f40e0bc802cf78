"""Why a connect flow cannot start. Views branch on the class and show the matching page.

Starting a flow also lets the FlatPeak client's own errors through unchanged
(`provider_auth.flatpeak.errors`): `FlatPeakUnavailable` (worth a retry),
`FlatPeakMisconfigured` (an operator problem) and `FlatPeakRejected` (an unusable answer).
"""

from __future__ import annotations


class ConnectStartError(Exception):
    """Base class of the refusals of `connect_session_start`."""


class ConnectLinkInvalid(ConnectStartError):  # noqa: N818 (reads as a sentence at the call site)
    """The connect token is missing or malformed: nothing was asked of FlatPeak."""


class ConnectLinkExpired(ConnectStartError):  # noqa: N818
    """FlatPeak does not know the connect token (unknown or expired)."""


class ConnectNotConfigured(ConnectStartError):  # noqa: N818
    """This server has no active OAuth client for FlatPeak: no flow could ever finish."""
