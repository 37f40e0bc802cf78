"""HTML pages as a browser sees them: forms with their controls and button texts, links, the
title and the visible text (no script or style)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Control:
    tag: str  # input, button, select, textarea
    name: str
    type: str
    value: str
    checked: bool = False
    text: str = ""  # a button's visible text


@dataclass
class Form:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    def buttons(self) -> list[Control]:
        return [
            c
            for c in self.controls
            if (c.tag == "button" and c.type in {"submit", ""}) or c.type == "submit"
        ]

    def has_password(self) -> bool:
        return any(c.type == "password" for c in self.controls)

    def radios(self) -> list[Control]:
        return [c for c in self.controls if c.type == "radio"]


@dataclass
class Link:
    href: str
    text: str


class PageParser(HTMLParser):
    """Forms (with their controls and button texts), links, title and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[Link] = []
        self.text_parts: list[str] = []
        self.title = ""
        self._form: Form | None = None
        self._button: Control | None = None
        self._link: Link | None = None
        self._select: Control | None = None
        self._in_title = False
        self._skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "a" and "href" in a:
            self._link = Link(href=a["href"], text="")
            self.links.append(self._link)
        elif self._form is not None and tag == "input":
            self._form.controls.append(
                Control(
                    "input",
                    a.get("name", ""),
                    a.get("type", "text").lower(),
                    a.get("value", ""),
                    checked="checked" in a,
                )
            )
        elif self._form is not None and tag == "button":
            self._button = Control(
                "button", a.get("name", ""), a.get("type", "submit").lower(), a.get("value", "")
            )
            self._form.controls.append(self._button)
        elif self._form is not None and tag == "select":
            self._select = Control("select", a.get("name", ""), "select", "")
            self._form.controls.append(self._select)
        elif self._select is not None and tag == "option":
            if "selected" in a or not self._select.value:
                self._select.value = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None
        elif tag == "a":
            self._link = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        self.text_parts.append(data)
        if self._button is not None:
            self._button.text += data
        if self._link is not None:
            self._link.text += data


def squash(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Page:
    url: str
    status: int
    headers: requests.structures.CaseInsensitiveDict
    html: str
    forms: list[Form]
    links: list[Link]
    text: str
    title: str

    @classmethod
    def parse(cls, response: requests.Response) -> Page:
        parser = PageParser()
        content_type = response.headers.get("Content-Type", "")
        body = response.text if "html" in content_type else ""
        parser.feed(body)
        return cls(
            url=response.url,
            status=response.status_code,
            headers=response.headers,
            html=body,
            forms=parser.forms,
            links=[Link(urljoin(response.url, x.href), squash(x.text)) for x in parser.links],
            text=squash(" ".join(parser.text_parts)),
            title=squash(parser.title),
        )

    def describe(self) -> str:
        return f"HTTP {self.status} '{self.title or self.text[:60]}' at {self.url}"

    def button(self, contains: str) -> tuple[Form, Control] | None:
        for form in self.forms:
            for button in form.buttons():
                if contains.lower() in squash(button.text).lower():
                    return form, button
        return None

    def link(self, contains: str) -> Link | None:
        return next((x for x in self.links if contains.lower() in x.text.lower()), None)

    def password_form(self) -> Form | None:
        return next((f for f in self.forms if f.has_password()), None)
