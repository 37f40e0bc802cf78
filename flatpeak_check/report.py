"""The lines a run prints: a header, one line per check as it finishes, and a summary.

Both front ends print the same words; only the colouring differs (Django's styles for
`manage.py flatpeak_check`, ANSI or none for the console script).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flatpeak_check.results import Result


def _plain(text: str) -> str:
    return text


@dataclass(frozen=True)
class Style:
    success: Callable[[str], str] = _plain
    error: Callable[[str], str] = _plain


PLAIN = Style()
# Bold green and bold red, as Django's SUCCESS and ERROR styles.
ANSI = Style(
    success=lambda text: f"\x1b[32;1m{text}\x1b[0m",
    error=lambda text: f"\x1b[31;1m{text}\x1b[0m",
)


class Report:
    """Writes each line through `write` (which adds the line ending)."""

    def __init__(self, *, write: Callable[[str], None], style: Style = PLAIN) -> None:
        self.write = write
        self.style = style

    def start(self, *, base_url: str, email: str) -> None:
        self.write(f"flatpeak_check against {base_url} as {email}")

    def result(self, result: Result) -> None:
        mark = self.style.success("PASS") if result.ok else self.style.error("FAIL")
        detail = f" — {result.detail}" if result.detail else ""
        self.write(f"{mark} {result.ident} {result.name}{detail}")

    def summary(self, results: Sequence[Result]) -> list[Result]:
        """Write the summary line; return the failed results."""
        failed = [r for r in results if not r.ok]
        line = f"{len(results)} checks: {len(results) - len(failed)} passed, {len(failed)} failed"
        self.write(self.style.error(line) if failed else self.style.success(line))
        return failed


def failure_message(failed: Sequence[Result]) -> str:
    return "FlatPeak conformance failed: " + ", ".join(f"{r.ident} {r.name}" for r in failed)
