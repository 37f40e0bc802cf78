"""The command line: the options, one run against a deployment, and the exit codes.

`flatpeak-check` (and `python -m flatpeak_check`) exits 0 when every check passed, 1 when a
check failed or the deployment could not be reached, 2 on bad options. `manage.py
flatpeak_check` shares `add_arguments` and `run`, and turns the two errors into `CommandError`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

import requests

from flatpeak_check.checks import Checker
from flatpeak_check.report import ANSI, PLAIN, Report, failure_message

DESCRIPTION = (
    "Black-box FlatPeak conformance check of a running deployment whose sandbox is enabled "
    "(staging): drives the connect flow over HTTP like a browser and prints one line per "
    "check. Exit code 0 only if every check passes."
)


class UsageError(Exception):
    """The options cannot describe a deployment (e.g. a relative --base-url)."""


class ConformanceFailed(Exception):
    """A check failed, or the deployment could not be reached at all."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", required=True, help="The deployment, e.g. https://…")
    parser.add_argument("--email", required=True, help="A test customer's email")
    parser.add_argument("--password", required=True, help="That customer's password")
    parser.add_argument(
        "--sandbox-url",
        default="",
        help="Where the sandbox is served, when not on --base-url (another host name)",
    )
    parser.add_argument("--persona", default="heatwise", help="Sandbox device maker")
    parser.add_argument("--direction", default="IMPORT", choices=["IMPORT", "EXPORT"])
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="Seconds per HTTP request (default 30)"
    )


def run(
    *,
    base_url: str,
    sandbox_url: str,
    email: str,
    password: str,
    persona: str,
    direction: str,
    timeout: float,
    report: Report,
) -> None:
    """Run every check, reporting as it goes; raise unless all passed."""
    base_url = base_url.rstrip("/")
    if urlsplit(base_url).scheme not in {"http", "https"} or not urlsplit(base_url).netloc:
        raise UsageError(f"--base-url must be an absolute http(s) URL, not {base_url!r}")
    checker = Checker(
        base_url=base_url,
        sandbox_url=sandbox_url or base_url,
        email=email,
        password=password,
        persona=persona,
        direction=direction,
        timeout=timeout,
        write=report.result,
    )
    report.start(base_url=base_url, email=email)
    try:
        results = checker.run()
    except requests.ConnectionError as e:
        raise ConformanceFailed(f"cannot reach {base_url}: {e}") from e
    failed = report.summary(results)
    if failed:
        raise ConformanceFailed(failure_message(failed))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flatpeak-check", description=DESCRIPTION)
    add_arguments(parser)
    parser.add_argument("--no-color", action="store_true", help="No colours in the output")
    return parser


def _print(line: str) -> None:
    print(line, flush=True)  # one line per check as it finishes, even through a pipe


def main(argv: Sequence[str] | None = None) -> int:
    """The `flatpeak-check` console script; returns the exit code."""
    parser = build_parser()
    options = parser.parse_args(argv)
    colour = not options.no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
    try:
        run(
            base_url=options.base_url,
            sandbox_url=options.sandbox_url,
            email=options.email,
            password=options.password,
            persona=options.persona,
            direction=options.direction,
            timeout=options.timeout,
            report=Report(write=_print, style=ANSI if colour else PLAIN),
        )
    except UsageError as e:
        parser.error(str(e))  # exits 2, with the usage line
    except ConformanceFailed as e:
        print(f"{parser.prog}: {e}", file=sys.stderr)
        return 1
    return 0
