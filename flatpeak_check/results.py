"""What one check yields: a `Result` line, or `CheckFailed` raised inside its body."""

from __future__ import annotations

from dataclasses import dataclass


class CheckFailed(Exception):
    """A check's expectation did not hold; the message says what was seen and what to fix."""


@dataclass
class Result:
    ident: str
    name: str
    ok: bool
    detail: str
