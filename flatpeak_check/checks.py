"""The conformance checks, numbered as printed: 1 metadata and headers, 2 the allow path, 3 the
tokens (through the sandbox's poller), 4 refusals, 5 bad input, 6 FlatPeak faults.

The device maker and FlatPeak are played by the deployment's sandbox, which must be enabled (a
staging server): its app starts each connect session, and its public JSON at
`/sandbox/sessions/<token>.json` says what FlatPeak received.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from flatpeak_check import urls
from flatpeak_check.browser import USER_AGENT, Browser
from flatpeak_check.pages import Page, squash
from flatpeak_check.results import CheckFailed, Result

NOT_A_REDIRECT_TARGET = "https://evil.example/steal"  # a foreign redirect_uri we must ignore


@dataclass
class Flow:
    """One trip through the connect flow in its own browser."""

    browser: Browser
    token: str
    auth_url: str
    page: Page | None = None


class Checker:
    def __init__(
        self,
        *,
        base_url: str,
        sandbox_url: str,
        email: str,
        password: str,
        persona: str,
        direction: str,
        timeout: float,
        write: Callable[[Result], None],
    ) -> None:
        self.base = base_url.rstrip("/")
        self.sandbox = sandbox_url.rstrip("/")
        self.email, self.password = email, password
        self.persona, self.direction = persona, direction
        self.timeout = timeout
        self.write = write
        self.results: list[Result] = []
        self.persona_name = ""
        self.need_https = not urls.is_loopback(self.base)

    # -- plumbing
    def browser(self) -> Browser:
        return Browser(
            timeout=self.timeout, origins={urls.origin(self.base), urls.origin(self.sandbox)}
        )

    @contextmanager
    def check(self, ident: str, name: str) -> Iterator[list[str]]:
        """Run the body as one check; it appends detail lines, raises CheckFailed to fail."""
        notes: list[str] = []
        try:
            yield notes
        except CheckFailed as e:
            result = Result(ident, name, False, str(e))
        except requests.RequestException as e:
            result = Result(ident, name, False, f"HTTP error talking to the deployment: {e}")
        else:
            result = Result(ident, name, True, "; ".join(notes))
        self.results.append(result)
        self.write(result)

    def sandbox_json(self, token: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.sandbox}/sandbox/sessions/{token}.json",
            timeout=self.timeout,
            # A staging sandbox (DEBUG off) shows its records to staff or this key only; the
            # server reads the same environment variable.
            headers={
                "User-Agent": USER_AGENT,
                "X-Sandbox-Key": os.environ.get("SANDBOX_ACCESS_KEY", ""),
            },
        )
        if response.status_code != 200:
            raise CheckFailed(
                f"the sandbox does not know session {token[:8]}… (HTTP {response.status_code})"
            )
        return response.json()

    def flow_start(self, *, persona: str | None = None, **faults: Any) -> Flow:
        """In the sandbox's device-maker app: choose, then "Connect my tariff" (not followed)."""
        browser = self.browser()
        page = browser.get(f"{self.sandbox}/sandbox/")
        if page.status == 404:
            raise CheckFailed(
                f"no sandbox at {self.sandbox}/sandbox/ (404): enable it on this (staging) "
                "deployment with SANDBOX_ENABLED=true (and SANDBOX_ALLOW_IN_PRODUCTION=true)"
            )
        found = page.button("Connect my tariff")
        if page.status != 200 or not found:
            raise CheckFailed(f"the sandbox app page is not usable: {page.describe()}")
        form, button = found
        fill = {
            "persona": persona or self.persona,
            "direction": self.direction,
            "fault_context": faults.get("fault_context", ""),
            "fault_submission": faults.get("fault_submission", ""),
            "fault_repeats": str(faults.get("fault_repeats", 1)),
        }
        answer = browser.submit(page, form, button=button, fill=fill, follow=False)
        hop = browser.hops[-1]
        if hop.status not in {302, 303} or not hop.location:
            raise CheckFailed(f"'Connect my tariff' did not redirect: {answer.describe()}")
        auth_url = urljoin(hop.url, hop.location)
        token = (parse_qs(urlsplit(auth_url).query).get("connect_token") or [""])[0]
        if not token:
            raise CheckFailed(f"the sandbox redirected without a connect_token: {auth_url}")
        return Flow(browser=browser, token=token, auth_url=auth_url)

    def login(self, flow: Flow, page: Page, *, password: str | None = None) -> Page:
        form = page.password_form()
        if form is None:
            raise CheckFailed(f"expected the login page, got {page.describe()}")
        user_field = next(
            (
                c.name
                for c in form.controls
                if c.type in {"email", "text"} and c.name and c.type != "hidden"
            ),
            "username",
        )
        password_field = next(c.name for c in form.controls if c.type == "password")
        login_button = next((b for b in form.buttons() if "log in" in squash(b.text).lower()), None)
        return flow.browser.submit(
            page,
            form,
            button=login_button,
            fill={user_field: self.email, password_field: password or self.password},
        )

    def to_consent(self, flow: Flow, page: Page) -> Page:
        """From after login to the consent page: choose the first address when asked."""
        for _ in range(3):
            if page.button("Allow") and page.button("Deny"):
                return page
            if page.forms and any(f.radios() for f in page.forms):
                form = next(f for f in page.forms if f.radios())
                first = form.radios()[0]
                button = next(
                    (b for b in form.buttons() if squash(b.text).lower() == "continue"), None
                )
                page = flow.browser.submit(
                    page, form, button=button, fill={first.name: first.value}
                )
                continue
            break
        raise CheckFailed(f"expected the consent page (Allow / Deny), got {page.describe()}")

    def click(self, flow: Flow, page: Page, name: str) -> Page:
        """Press the button (or follow the link) whose accessible name contains `name`; the
        first redirect is not followed, so the caller can inspect where it points."""
        found = page.button(name)
        if found:
            form, button = found
            return flow.browser.submit(page, form, button=button, follow=False)
        link = page.link(name)
        if link:
            return flow.browser.get(link.href, follow=False)
        raise CheckFailed(f"no '{name}' control on {page.describe()}")

    def expect_return_to_app(self, flow: Flow, name: str) -> str:
        """The last hop must be a 303 to the sandbox's connect-web page for this token."""
        hop = flow.browser.hops[-1]
        expected = f"{self.sandbox}/sandbox/connect-web/?fp_cot={flow.token}"
        location = urljoin(hop.url, hop.location) if hop.location else ""
        if hop.status == 303 and urls.without_query(location) == urls.without_query(expected):
            if flow.token not in location:
                raise CheckFailed(f"{name}: the 303 lost the connect token: {location}")
            return location
        if location and urls.origin(location) == urls.origin(self.base):
            # Our server sent the browser to one of its own pages: show what it says.
            seen = f"a redirect to our own page: {flow.browser.get(location).describe()}"
        elif location:
            seen = f"HTTP {hop.status} to {location}"
        else:
            seen = flow.page.describe() if flow.page else f"HTTP {hop.status}"
        raise CheckFailed(
            f"{name}: expected a 303 back to FlatPeak ({expected}), got {seen}. If our server "
            "refused FlatPeak's redirect_uri, FLATPEAK_REDIRECT_HOSTS must include "
            f"'{urlsplit(expected).netloc}'; otherwise see the server log"
        )

    def retry_until_redirect(self, flow: Flow, page: Page, *, attempts: int = 4) -> Page:
        """Press "Try again" while our server offers it (transient FlatPeak failures)."""
        for _ in range(attempts):
            hop = flow.browser.hops[-1]
            if hop.status in {302, 303}:
                return page
            if not (page.button("Try again") or page.link("Try again")):
                return page
            time.sleep(0.5)
            page = self.click(flow, page, "Try again")
        return page

    # -- 1. metadata, public URLs, headers
    def check_metadata(self) -> None:
        with self.check("1.1", "OAuth metadata is published with absolute URLs") as notes:
            url = f"{self.base}/.well-known/oauth-authorization-server"
            response = requests.get(url, timeout=self.timeout, headers={"User-Agent": USER_AGENT})
            if response.status_code != 200:
                raise CheckFailed(f"{url} answered HTTP {response.status_code}")
            try:
                metadata = response.json()
            except ValueError as e:
                raise CheckFailed(f"{url} is not JSON") from e
            missing = [k for k in ("issuer", "token_endpoint") if not metadata.get(k)]
            if missing:
                raise CheckFailed(f"metadata lacks {', '.join(missing)}")
            if "refresh_token" not in metadata.get("grant_types_supported", ["refresh_token"]):
                raise CheckFailed("grant_types_supported does not include refresh_token")
            urls = {k: v for k, v in metadata.items() if k.endswith(("endpoint", "issuer", "_uri"))}
            self._require_public_urls(urls.items())
            notes.append(f"token_endpoint {metadata['token_endpoint']}")

        with self.check("1.2", "security headers on the pages") as notes:
            browser = self.browser()
            page = browser.get(f"{self.base}/flatpeak/auth?connect_token=cot_not-a-token")
            problems = self._header_problems(page)
            if problems:
                raise CheckFailed("; ".join(problems))
            notes.append("CSP, nosniff, framing, referrer policy" + (", HSTS" * self.need_https))

    def _require_public_urls(self, items: Any) -> None:
        for name, value in items:
            if not isinstance(value, str) or not urlsplit(value).netloc:
                raise CheckFailed(f"{name} is not an absolute URL: {value!r}")
            if self.need_https and urlsplit(value).scheme != "https":
                raise CheckFailed(f"{name} must be https on a public deployment: {value}")

    def _header_problems(self, page: Page, *, login: bool = False) -> list[str]:
        h = page.headers
        problems = []
        csp = h.get("Content-Security-Policy", "")
        if not csp:
            problems.append("no Content-Security-Policy")
        if "frame-ancestors 'none'" not in csp and h.get("X-Frame-Options", "").upper() != "DENY":
            problems.append("pages may be framed (no frame-ancestors 'none' / X-Frame-Options)")
        if h.get("X-Content-Type-Options", "").lower() != "nosniff":
            problems.append("no X-Content-Type-Options: nosniff")
        if not h.get("Referrer-Policy"):
            problems.append("no Referrer-Policy (the connect token is in our URLs)")
        if self.need_https and "max-age" not in h.get("Strict-Transport-Security", ""):
            problems.append("no Strict-Transport-Security")
        if (
            login
            and "no-store" not in h.get("Cache-Control", "")
            and "private" not in h.get("Cache-Control", "")
        ):
            problems.append("the login page may be cached (Cache-Control lacks no-store)")
        return [f"{p} on {page.url}" for p in problems]

    # -- 2 and 3. the allow path, then the tokens
    def check_allow(self) -> Flow | None:
        flow: Flow | None = None
        with self.check("2.1", "sandbox starts a connect session (device maker's app)") as notes:
            flow = self.flow_start()
            if self.need_https and urlsplit(flow.auth_url).scheme != "https":
                raise CheckFailed(f"the authentication URI is not https: {flow.auth_url}")
            notes.append(f"authentication URI {urls.without_query(flow.auth_url)}")
        if flow is None:
            return None
        ok = True
        with self.check("2.2", "session context fetched from FlatPeak; login page shown") as notes:
            page = flow.browser.get(flow.auth_url)
            flow.page = page
            summary = self.sandbox_json(flow.token)
            if summary["context_fetches"] < 1:
                raise CheckFailed(
                    f"our server never fetched the session context ({page.describe()}): check "
                    "FLATPEAK_API_URL, FLATPEAK_SESSION_PATH and the Basic credentials"
                )
            if page.password_form() is None:
                raise CheckFailed(f"expected the login page, got {page.describe()}")
            problems = self._header_problems(page, login=True)
            if problems:
                raise CheckFailed("; ".join(problems))
            notes.append(f"context fetched {summary['context_fetches']}×")
        if not self.results[-1].ok:
            return None
        with self.check("2.3", "login, then consent names the device maker") as notes:
            page = self.login(flow, flow.page)
            if page.password_form() is not None:
                raise CheckFailed(
                    f"login as {self.email} failed ({page.describe()}): is this a test customer "
                    "with that password?"
                )
            page = self.to_consent(flow, page)
            flow.page = page
            self.persona_name = self.persona_name or self._persona_display_name(flow.token)
            if self.persona_name and self.persona_name not in page.text:
                raise CheckFailed(f"the consent page does not name '{self.persona_name}'")
            problems = self._header_problems(page, login=True)
            if problems:
                raise CheckFailed("; ".join(problems))
            notes.append(f"consent for '{self.persona_name}'")
        ok = self.results[-1].ok
        if not ok:
            return None
        with self.check("2.4", "Allow: 303 to the redirect_uri FlatPeak returned") as notes:
            flow.page = self.click(flow, flow.page, "Allow")
            flow.page = self.retry_until_redirect(flow, flow.page)
            location = self.expect_return_to_app(flow, "Allow")
            notes.append(f"303 → {urls.without_query(location)}")
        if not self.results[-1].ok:
            return None
        with self.check("2.5", "the submission carries the contract's fields") as notes:
            summary = self.sandbox_json(flow.token)
            payload = summary.get("payload") or {}
            if summary["status"] != "AUTHORISED":
                raise CheckFailed(f"FlatPeak recorded status {summary['status']!r}")
            if summary["payloads_received"] != 1:
                raise CheckFailed(f"FlatPeak received {summary['payloads_received']} payloads")
            auth = payload.get("auth_data") or {}
            wanted = ("access_token", "refresh_token", "expires_in", "token_endpoint")
            missing = [k for k in (*wanted, "tariff_endpoint") if k not in auth]
            missing += [
                k for k in ("reference_id", "postal_address", "contract_term") if k not in payload
            ]
            if missing:
                raise CheckFailed(f"the submission lacks {', '.join(missing)}")
            self._require_public_urls(
                (f"auth_data.{k}", v) for k, v in auth.items() if k.endswith("_endpoint")
            )
            notes.append(
                f"reference {payload.get('reference_id')}, {payload['postal_address'].get('post_code')}"
            )
        if not self.results[-1].ok:
            return None
        return flow

    def _persona_display_name(self, token: str) -> str:
        page = self.browser().get(f"{self.sandbox}/sandbox/connect-web/?fp_cot={token}")
        marker = "Device maker "
        text = page.text
        if marker in text:
            rest = text.split(marker, 1)[1]
            return rest.split(" Direction")[0].strip()
        return ""

    def check_tokens(self, flow: Flow) -> None:
        page: Page | None = None
        with self.check("3.1", "FlatPeak's poller reads the tariff and refreshes once") as notes:
            page = flow.browser.get(f"{self.sandbox}/sandbox/connect-web/?fp_cot={flow.token}")
            summary = self.sandbox_json(flow.token)
            poll = summary.get("poll_result") or {}
            failed = [f"{s['name']} ({s['detail']})" for s in poll.get("steps", []) if not s["ok"]]
            if not poll or failed:
                raise CheckFailed("poller failed: " + (", ".join(failed) or "it did not run"))
            notes.append(", ".join(s["name"] for s in poll["steps"]))
        if page is None or not self.results[-1].ok:
            return
        found = page.button("Run token checks")
        if not found:
            with self.check("3.2", "token checks"):
                raise CheckFailed(f"no 'Run token checks' button on {page.describe()}")
            return
        form, button = found
        flow.browser.submit(page, form, button=button)
        checks = (self.sandbox_json(flow.token).get("token_checks") or {}).get("steps", [])
        titles = {
            "tariff_provider_format": "tariff fetched in the provider format",
            "tariff_flatpeak_format": "tariff fetched in FlatPeak's format (?format=flatpeak)",
            "refresh_rotates": "refresh rotates both tokens",
            "new_access_token_works": "the new access token works",
            "old_refresh_token_refused": "the old refresh token is refused (invalid_grant)",
            "reuse_revoked_grant_access": "reuse revoked the grant: access token refused",
            "reuse_revoked_grant_refresh": "reuse revoked the grant: refresh token refused",
            "retry_within_grace_gets_a_new_pair": (
                "the old refresh token again, within the grace window: a new pair (a retry)"
            ),
            "retry_keeps_the_rotated_tokens": "the retry left the rotated access token working",
        }
        if not checks:
            with self.check("3.2", "token checks"):
                raise CheckFailed("the sandbox recorded no token checks")
        for index, step in enumerate(checks, start=2):
            with self.check(f"3.{index}", titles.get(step["name"], step["name"])) as notes:
                if not step["ok"]:
                    raise CheckFailed(step["detail"])
                notes.append(step["detail"])

    # -- 4. refusals never carry auth_data
    def _refusal(self, ident: str, name: str, expected: str, drive: Callable[[Flow], Page]) -> None:
        with self.check(ident, name) as notes:
            flow = self.flow_start()
            flow.page = flow.browser.get(flow.auth_url)
            flow.page = drive(flow)
            self.expect_return_to_app(flow, name)
            summary = self.sandbox_json(flow.token)
            payload = summary.get("payload") or {}
            if summary["status"] != expected:
                raise CheckFailed(f"FlatPeak recorded {summary['status']!r}, expected {expected}")
            leaked = [k for k in ("auth_data", "postal_address", "contract_term") if k in payload]
            if leaked:
                raise CheckFailed(f"a {expected} submission carried {', '.join(leaked)}")
            if summary["payloads_received"] != 1:
                raise CheckFailed(f"FlatPeak received {summary['payloads_received']} payloads")
            notes.append(f"{expected} ({summary['reason']}), no auth_data")

    def check_refusals(self) -> None:
        def deny(flow: Flow) -> Page:
            page = self.to_consent(flow, self.login(flow, flow.page))  # type: ignore[arg-type]
            return self.click(flow, page, "Deny")

        def cancel(flow: Flow) -> Page:
            return self.click(flow, flow.page, "Cancel")  # type: ignore[arg-type]

        def wrong_password(flow: Flow) -> Page:
            wrong = "wrong-" + secrets.token_hex(6)
            page = self.login(flow, flow.page, password=wrong)  # type: ignore[arg-type]
            if page.password_form() is None:
                raise CheckFailed(
                    f"a wrong password did not keep the login page: {page.describe()}"
                )
            return self.click(flow, page, "Cancel")

        self._refusal("4.1", "Deny submits DECLINED", "DECLINED", deny)
        self._refusal("4.2", "Cancel submits CANCELLED", "CANCELLED", cancel)
        self._refusal(
            "4.3",
            "wrong password, then Cancel, submits LOGIN_FAILED",
            "LOGIN_FAILED",
            wrong_password,
        )

    # -- 5. bad input
    def check_bad_input(self, allow_flow: Flow | None) -> None:
        with self.check("5.1", "a malformed connect token gets a 400 page") as notes:
            browser = self.browser()
            for query in ("connect_token=cot_123", "connect_token=<script>", ""):
                page = browser.get(f"{self.base}/flatpeak/auth?{query}", follow=False)
                if page.status != 400:
                    raise CheckFailed(f"?{query} answered {page.describe()}")
            notes.append("3 variants → 400")
        with self.check("5.2", "an unknown connect token gets an 'expired' page") as notes:
            token = "cot_" + secrets.token_hex(12)
            page = self.browser().get(
                f"{self.base}/flatpeak/auth?connect_token={token}", follow=False
            )
            if not 400 <= page.status < 500 or page.password_form() is not None:
                raise CheckFailed(f"unknown token answered {page.describe()}")
            notes.append(f"HTTP {page.status}")
        with self.check("5.3", "a foreign redirect_uri in the URL is ignored") as notes:
            flow = self.flow_start()
            url = f"{flow.auth_url}&{urlencode({'redirect_uri': NOT_A_REDIRECT_TARGET})}"
            flow.page = flow.browser.get(url)
            flow.page = self.click(flow, flow.page, "Cancel")
            self.expect_return_to_app(flow, "Cancel with a foreign redirect_uri")
            foreign = [h for h in flow.browser.hops if "evil.example" in h.location]
            if foreign:
                raise CheckFailed(f"redirected towards the foreign URI: {foreign[0].location}")
            notes.append("never redirected to it")
        with self.check("5.4", "replay after completion submits nothing and shows a page") as notes:
            if allow_flow is None:
                raise CheckFailed("needs the allow path (2.x) to have completed")
            before = self.sandbox_json(allow_flow.token)
            same = allow_flow.browser.get(allow_flow.auth_url, follow=False)
            other = self.browser().get(allow_flow.auth_url, follow=False)
            after = self.sandbox_json(allow_flow.token)
            for who, page in (("same browser", same), ("another browser", other)):
                if page.status >= 500:
                    raise CheckFailed(f"replay in {who}: {page.describe()}")
                location = page.headers.get("Location", "")
                if location and not location.startswith(f"{self.sandbox}/sandbox/connect-web/"):
                    raise CheckFailed(f"replay in {who} redirected to {location}")
            new = len(after["requests"]) - len(before["requests"])
            new_submissions = [r for r in after["requests"][-new:] if r["kind"] == "submission"]
            if new and new_submissions:
                raise CheckFailed(f"replay made {len(new_submissions)} new submission(s)")
            notes.append(f"same browser HTTP {same.status}, another HTTP {other.status}")

    # -- 6. FlatPeak faults
    def check_faults(self) -> None:
        with self.check("6.1", "a transient session-context failure can be retried") as notes:
            flow = self.flow_start(fault_context="error_500", fault_repeats=1)
            page = flow.browser.get(flow.auth_url)
            for _ in range(4):
                if page.password_form() is not None:
                    break
                if not (page.button("Try again") or page.link("Try again")):
                    raise CheckFailed(f"neither the login page nor 'Try again': {page.describe()}")
                time.sleep(0.5)
                page = self.click(flow, page, "Try again")
                if flow.browser.hops[-1].status in {301, 302, 303}:
                    page = flow.browser.get(urljoin(page.url, flow.browser.hops[-1].location))
            if page.password_form() is None:
                raise CheckFailed(f"never reached the login page: {page.describe()}")
            summary = self.sandbox_json(flow.token)
            outcomes = [r["outcome"] for r in summary["requests"] if r["kind"] == "context"]
            if "fault_error_500" not in outcomes or summary["context_fetches"] < 1:
                raise CheckFailed(f"the fault was not exercised: {outcomes}")
            notes.append(" → ".join(outcomes))
        with self.check(
            "6.2", "a transient submission failure is retried; FlatPeak gets one payload"
        ) as notes:
            flow = self.flow_start(fault_submission="error_500", fault_repeats=1)
            flow.page = flow.browser.get(flow.auth_url)
            page = self.to_consent(flow, self.login(flow, flow.page))
            flow.page = self.click(flow, page, "Allow")
            flow.page = self.retry_until_redirect(flow, flow.page)
            self.expect_return_to_app(flow, "Allow after a submission failure")
            summary = self.sandbox_json(flow.token)
            if summary["status"] != "AUTHORISED" or summary["payloads_received"] != 1:
                raise CheckFailed(
                    f"FlatPeak recorded {summary['status']!r} with "
                    f"{summary['payloads_received']} payload(s)"
                )
            if len(summary["submission_keys"]) != 1 or len(summary["submission_bodies"]) != 1:
                raise CheckFailed(
                    f"retries were not identical: {len(summary['submission_keys'])} keys, "
                    f"{len(summary['submission_bodies'])} bodies"
                )
            outcomes = [r["outcome"] for r in summary["requests"] if r["kind"] == "submission"]
            if len(outcomes) < 2:
                raise CheckFailed(f"the failed submission was never retried: {outcomes}")
            notes.append(" → ".join(outcomes))

    def run(self) -> list[Result]:
        self.check_metadata()
        allow_flow = self.check_allow()
        if allow_flow is not None:
            self.check_tokens(allow_flow)
        self.check_refusals()
        self.check_bad_input(allow_flow)
        self.check_faults()
        return self.results
