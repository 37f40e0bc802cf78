"""A small browser over `requests`: a cookie jar, browser-like headers (Referer, Origin on a
POST), HTML forms submitted as a browser would, and redirects followed one hop at a time, each
recorded, and only within the origins under test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from flatpeak_check import urls
from flatpeak_check.pages import Control, Form, Page
from flatpeak_check.results import CheckFailed

USER_AGENT = "flatpeak_check/1.0 (provider onboarding conformance)"


@dataclass
class Hop:
    method: str
    url: str
    status: int
    location: str


class Browser:
    """requests.Session with manual redirects, form submission and browser-like headers."""

    def __init__(self, *, timeout: float, origins: set[str] | None = None) -> None:
        # Redirects are followed only within these origins (the deployment and its sandbox): a
        # conformance check must never fetch a URL a misbehaving server points it to.
        self.origins = origins or set()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept-Language"] = "en"
        self.timeout = timeout
        self.hops: list[Hop] = []

    def request(
        self, method: str, url: str, *, data: Any = None, referer: str = "", follow: bool = True
    ) -> Page:
        """One request, then its redirects one at a time (each hop recorded) unless told not."""
        for _ in range(12):
            headers = {}
            if referer:
                parts = urlsplit(referer)
                headers["Referer"] = referer
                if method == "POST":
                    headers["Origin"] = f"{parts.scheme}://{parts.netloc}"
            response = self.session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
            location = response.headers.get("Location", "")
            self.hops.append(Hop(method, url, response.status_code, location))
            if not follow or response.status_code not in {301, 302, 303, 307, 308} or not location:
                return Page.parse(response)
            if self.origins and urls.origin(urljoin(url, location)) not in self.origins:
                return Page.parse(response)
            referer, url = url, urljoin(url, location)
            if response.status_code in {301, 302, 303}:
                method, data = "GET", None
        raise CheckFailed(f"more than 12 redirects starting at {url}")

    def get(self, url: str, *, follow: bool = True) -> Page:
        return self.request("GET", url, follow=follow)

    def submit(
        self,
        page: Page,
        form: Form,
        *,
        button: Control | None = None,
        fill: dict[str, str] | None = None,
        follow: bool = True,
    ) -> Page:
        data: list[tuple[str, str]] = []
        fill = dict(fill or {})
        for control in form.controls:
            if not control.name or control.tag == "button" or control.type == "submit":
                continue
            if control.type in {"radio", "checkbox"}:
                if control.name in fill:
                    if fill[control.name] == control.value:
                        data.append((control.name, control.value))
                elif control.checked:
                    data.append((control.name, control.value))
                continue
            data.append((control.name, fill.pop(control.name, control.value)))
        data += [(k, v) for k, v in fill.items() if not any(c.name == k for c in form.controls)]
        if button is not None and button.name:
            data.append((button.name, button.value))
        url = urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return self.request("POST", url, data=data, referer=page.url, follow=follow)
        query = urlencode(data)
        return self.request("GET", f"{url}?{query}" if query else url, follow=follow)
