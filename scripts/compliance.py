#!/usr/bin/env python3
"""Generate docs/compliance.md from the `@pytest.mark.spec("…")` tags in tests/.

    python scripts/compliance.py          # write docs/compliance.md
    python scripts/compliance.py --check  # exit 1 when docs/compliance.md is stale (CI)

The matrix lists every requirement some test proves, with those tests, followed by the
hand-maintained list of requirements we knowingly do not meet (GAPS below): a gap stays
visible until someone closes it. Tests are found by reading their source (ast), so the script
needs neither Django nor a database and runs in a fraction of a second.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
OUTPUT = ROOT / "docs" / "compliance.md"

STANDARDS = {
    "RFC9700": ("RFC 9700", "OAuth 2.0 Security Best Current Practice"),
    "RFC6819": ("RFC 6819", "OAuth 2.0 Threat Model and Security Considerations"),
    "RFC6749": ("RFC 6749", "The OAuth 2.0 Authorization Framework"),
    "RFC6750": ("RFC 6750", "Bearer Token Usage"),
    "RFC7009": ("RFC 7009", "Token Revocation"),
    "RFC7636": ("RFC 7636", "Proof Key for Code Exchange"),
    "RFC7662": ("RFC 7662", "Token Introspection"),
    "RFC8414": ("RFC 8414", "Authorization Server Metadata"),
    "ASVS": ("OWASP ASVS 4.0.3", "Application Security Verification Standard, level 2"),
    "EU": (
        "EU 2023/1162",
        "Implementing Regulation on access to metering and consumption data, art. 8 (permissions)",
    ),
    "WCAG": ("WCAG", "Web Content Accessibility Guidelines"),
    "WCAG22": ("WCAG 2.2", "Web Content Accessibility Guidelines 2.2"),
    "OIDCCore": (
        "OpenID Connect Core 1.0",
        "as relying party of the provider's identity provider",
    ),
    "OIDCBackChannel": ("OpenID Connect Back-Channel Logout 1.0", "as relying party"),
    "OIDCRPInitiated": ("OpenID Connect RP-Initiated Logout 1.0", "as relying party"),
    "RFC9207": ("RFC 9207", "OAuth 2.0 Authorization Server Issuer Identification"),
    "RFC8725": ("RFC 8725", "JSON Web Token Best Current Practices"),
}

# Short titles, so a reader need not open the standard to know what a row is about.
TITLES = {
    "RFC9700 2.1": "Protecting redirect-based flows",
    "RFC9700 2.1.1": "Authorization code grant: PKCE",
    "RFC9700 2.1.2": "Implicit grant not supported",
    "RFC9700 2.2": "Token replay prevention",
    "RFC9700 2.4": "No resource owner password credentials grant",
    "RFC9700 4.1.1": "Redirect URI validation",
    "RFC9700 4.2.4": "Credential leakage via Referer: countermeasures",
    "RFC9700 4.5": "Authorization code injection",
    "RFC9700 4.11.1": "No open redirection",
    "RFC9700 4.14.2": "Refresh token protection: rotation and reuse detection",
    "RFC6819 4.4.1.11": "Denial of service exhausting resources (rate limits, lockout)",
    "RFC6819 5.1.4.1.3": "No cleartext storage of credentials",
    "RFC6819 5.2.2.4": "Revocation of refresh tokens",
    "RFC6749 4.1.2": "Authorization response",
    "RFC6749 4.1.2.1": "Authorization error response",
    "RFC6749 4.1.3": "Access token request",
    "RFC6749 5.1": "Successful token response",
    "RFC6749 5.2": "Token error response",
    "RFC6749 6": "Refreshing an access token",
    "RFC6750 3": "WWW-Authenticate response header",
    "RFC6750 3.1": "Bearer error codes",
    "RFC7009 2.1": "Revocation request",
    "RFC7009 2.2": "Revocation response",
    "RFC7009 2.2.1": "Revocation error response",
    "RFC7636 4.4.1": "Code challenge required / error",
    "RFC7636 4.6": "Server verifies code_verifier",
    "RFC7662 2.1": "Introspection request",
    "RFC7662 2.2": "Introspection response",
    "RFC7662 4": "Introspection security considerations",
    "RFC8414 3": "Obtaining authorization server metadata",
    "ASVS 2.2.1": "Anti-automation: lockout, ceilings, no enumeration",
    "ASVS 2.2.3": "Notification after a change to login settings",
    "ASVS 2.7.1": "Out-of-band code sent only to a registered channel",
    "ASVS 2.7.2": "Out-of-band code expires (10 minutes)",
    "ASVS 2.7.6": "Out-of-band code usable once",
    "ASVS 2.10.4": "Secrets not stored in plaintext",
    "ASVS 3.2.1": "New session token on authentication",
    "ASVS 3.3.1": "Logout and expiry invalidate the session",
    "ASVS 3.3.2": "Idle and absolute session timeouts",
    "ASVS 3.3.4": "Users can log out of all sessions",
    "ASVS 3.4.1": "Session cookie Secure",
    "ASVS 3.4.2": "Session cookie HttpOnly",
    "ASVS 3.4.3": "Session cookie SameSite",
    "ASVS 3.4.4": "Session cookie __Host- prefix",
    "ASVS 4.2.1": "Protection against insecure direct object references",
    "ASVS 4.2.2": "CSRF protection",
    "ASVS 5.1.3": "Input validation (positive allow lists)",
    "ASVS 5.1.5": "Redirects only to allow-listed destinations",
    "ASVS 5.3.3": "Output encoding against XSS",
    "ASVS 7.1.1": "No credentials or tokens in logs",
    "ASVS 7.3.3": "Security logs protected from modification",
    "ASVS 8.2.1": "Anti-caching headers on sensitive pages",
    "ASVS 12.1.1": "Large files refused",
    "ASVS 12.2.1": "Untrusted data handled safely",
    "ASVS 12.4.1": "Files served safely",
    "ASVS 12.5.2": "Fetched files never executed as HTML or script",
    "ASVS 12.6.1": "Server-side request allow list",
    "ASVS 14.1.1": "Secure, repeatable deployment configuration",
    "ASVS 14.4.3": "Content-Security-Policy",
    "ASVS 14.4.5": "HSTS, nosniff, Referrer-Policy",
    "WCAG 2.1 AA": "Level AA as checked by axe-core",
    "WCAG22 1.3.1": "Info and relationships (labels, headings, tables)",
    "WCAG22 1.4.3": "Contrast (minimum), any brand colour",
    "WCAG22 1.4.10": "Reflow: no sideways scrolling at 320 px",
    "WCAG22 2.1.1": "Keyboard: the whole flow without a pointer",
    "WCAG22 2.4.1": "Bypass blocks (skip link)",
    "WCAG22 2.4.7": "Focus visible",
    "WCAG22 2.5.5": "Target size 44×44 px",
    "WCAG22 3.1.1": "Language of page",
    "WCAG22 3.2.2": "On input: no change of context without a button",
    "WCAG22 3.3.1": "Error identification, tied to the field",
    "OIDCCore 3.1.2.1": "Authentication request: code flow, PKCE, state, nonce",
    "OIDCCore 3.1.2.6": "Authentication error response",
    "OIDCCore 3.1.2.7": "Authentication response validation (state)",
    "OIDCCore 3.1.3.7": "ID token validation",
    "OIDCBackChannel 2.6": "Logout token validation",
    "OIDCBackChannel 2.7": "Back-channel logout actions",
    "OIDCBackChannel 2.8": "Back-channel logout response",
    "OIDCRPInitiated 2": "RP-initiated logout request",
    "RFC9207 2.4": "Issuer parameter validated by the client (mix-up)",
    "RFC8725 3.1": "Algorithm verification (no none, no HMAC with a public key)",
    "EU 2023/1162 art. 8 grant and revoke": "Permissions granted and revoked without delay",
    "EU 2023/1162 art. 8 scope per data type": "A permission names its data types and purpose",
    "EU 2023/1162 art. 8 end of validity": "A permission ends by itself when its validity ends",
    "EU 2023/1162 art. 8 overview of permissions": "The customer sees their active permissions",
    "EU 2023/1162 art. 8 record of permissions": "A record of permissions, free of charge",
}

# Requirements we do not meet, named honestly. Keep each entry until the gap is closed.
GAPS = [
    (
        "RFC9700 2.2",
        "Sender-constrained tokens (DPoP / mTLS)",
        "Access and refresh tokens are bearer tokens. FlatPeak's integration uses plain bearer "
        "tokens; refresh rotation with reuse detection and short access lifetimes limit replay.",
    ),
    (
        "ASVS 2.2.1",
        "Timing equality is statistical, not constant-time",
        "Every path hashes exactly one password; the remaining difference (a few database "
        "queries) is below what the Mann-Whitney test detects with 20 samples per path, not zero.",
    ),
    (
        "ASVS 2.2.1",
        "Lockouts can be used to keep a customer out for up to an hour",
        "The per-account ceiling counts failures from any IP, so 100 wrong passwords lock the "
        "real customer out until the hour ends; the price of stopping distributed guessing. "
        "No unlock-by-email flow yet; staff can clear axes records in the admin.",
    ),
    (
        "ASVS 2.2.3",
        "Notify the customer after a lockout",
        "Lockouts are in the audit log but not emailed: sending mail only for real accounts "
        "would make the locked path slower for them (enumeration by timing) unless queued; "
        "changes to the one-time-code setting are emailed.",
    ),
    (
        "ASVS 2.8.x",
        "TOTP / WebAuthn second factors",
        "The only second factor is an emailed one-time code (opt-in per customer).",
    ),
    (
        "ASVS 3.3.3",
        "Offer to end other sessions after a password change",
        "Django invalidates sessions on password change (session auth hash), but password "
        "change and reset pages are not part of this product yet.",
    ),
    (
        "ASVS 7.3.4",
        "Log integrity beyond the database",
        "Audit rows are append-only in PostgreSQL (trigger) but not hash-chained or shipped to "
        "write-once storage; a database superuser can still alter them.",
    ),
    (
        "RFC6819 4.4.1.11",
        "Rate limits without Redis are per process",
        "Counters use Django's cache; without REDIS_URL each worker counts alone. "
        "System check provider_auth.W006 warns in production.",
    ),
]


# The points of EU 2023/1162 art. 8 this server does not meet (permissions and their record).
GAPS += [
    (
        "EU 2023/1162 art. 8",
        "The record reaches back only as far as the audit log",
        "The downloadable record of permissions is built from audit events, which are deleted "
        "after AUDIT_RETENTION_DAYS; permissions older than that show their current state only.",
    ),
    (
        "EU 2023/1162 art. 8",
        "Customers cannot grant a permission from their account",
        "A permission is granted only in a flow the partner starts (FlatPeak's connect flow, "
        "/oauth/authorize); the account page can review and revoke, not grant.",
    ),
    (
        "EU 2023/1162 art. 8",
        "No machine-to-machine interface to the customer's permissions",
        "The record is a JSON/CSV download for the logged-in customer; there is no API (such as "
        "Green Button's Authorization resource) for a third party acting for the customer.",
    ),
    (
        "EU 2023/1162 art. 8",
        "Mails are in the server's language",
        "The customer's language is not stored, so grant mails sent by the cleanup job use "
        "LANGUAGE_CODE; mails sent during the connect flow use the page's language.",
    ),
]

_SPEC = re.compile(r"^([A-Za-z]+[0-9]*)\s+(.+)$")


def _spec_refs(decorators: list[ast.expr]) -> list[str]:
    refs = []
    for node in decorators:
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "spec"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                refs.append(call.args[0].value.strip())
    return refs


def _module_refs(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return _spec_refs([node.value])
    return []


def collect(root: Path = ROOT) -> dict[str, list[str]]:
    """{requirement: [test ids]}, from decorators on test functions, classes and pytestmark."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted((root / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root).as_posix()
        module_refs = _module_refs(tree)

        def visit(body: list[ast.stmt], prefix: str, inherited: list[str], rel: str = rel) -> None:
            for node in body:
                if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                    visit(
                        node.body,
                        f"{prefix}{node.name}::",
                        inherited + _spec_refs(node.decorator_list),
                    )
                elif isinstance(
                    node, ast.FunctionDef | ast.AsyncFunctionDef
                ) and node.name.startswith("test"):
                    for ref in inherited + _spec_refs(node.decorator_list):
                        found[ref].add(f"{rel}::{prefix}{node.name}")

        visit(tree.body, "", module_refs)
    return {ref: sorted(ids) for ref, ids in found.items()}


def _sort_key(ref: str) -> tuple:
    standard, _, section = ref.partition(" ")
    order = list(STANDARDS)
    rank = order.index(standard) if standard in order else len(order)
    parts = tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\s]", section))
    return (rank, standard, parts, section)


def render(matrix: dict[str, list[str]]) -> str:
    lines = [
        "# Compliance matrix",
        "",
        "<!-- Generated by scripts/compliance.py from the tests' @pytest.mark.spec tags. Do not "
        "edit: change the tests (or GAPS in the script) and run `python scripts/compliance.py`. "
        "CI runs it with --check. -->",
        "",
        "Each row is a requirement that at least one automated test proves; the tests are named "
        "so the row can be checked by running them. The last section lists the requirements we "
        "knowingly do **not** meet.",
        "",
        f"**{len(matrix)} requirements** proven by "
        f"**{len({t for ids in matrix.values() for t in ids})} tests**.",
        "",
    ]
    by_standard: dict[str, list[str]] = defaultdict(list)
    for ref in sorted(matrix, key=_sort_key):
        match = _SPEC.match(ref)
        by_standard[match.group(1) if match else ref].append(ref)
    for standard in sorted(by_standard, key=lambda s: _sort_key(s + " 0")):
        name, title = STANDARDS.get(standard, (standard, ""))
        lines += [f"## {name}" + (f" — {title}" if title else ""), ""]
        lines += ["| Requirement | What | Tests |", "|---|---|---|"]
        for ref in by_standard[standard]:
            section = ref.partition(" ")[2] or ref
            tests = "<br>".join(f"`{t}`" for t in matrix[ref])
            lines.append(f"| {section} | {TITLES.get(ref, '—')} | {tests} |")
        lines.append("")
    lines += [
        "## Requirements we do not meet",
        "",
        "| Requirement | What is missing | Why / mitigation |",
        "|---|---|---|",
    ]
    lines += [f"| {ref} | {what} | {why} |" for ref, what, why in GAPS]
    lines.append("")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/compliance.md is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="checkout whose tests/ to scan (default: this one)"
    )
    args = parser.parse_args(argv)
    content = render(collect(args.root))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != content:
            print(
                f"{_shown(args.output)} is stale: run `python scripts/compliance.py` "
                "and commit the result.",
                file=sys.stderr,
            )
            return 1
        print(f"{_shown(args.output)} is up to date.")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(content, encoding="utf-8")
    print(f"wrote {_shown(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
