"""What every page must pass in a real browser: axe-core plus the checks axe cannot make.

axe-core (bundled by axe-playwright-python, injected from disk: no network) finds missing labels,
contrast below AA, bad ARIA and missing `lang`. The rest is measured here: visible keyboard focus,
44×44 px targets, no horizontal scrolling at 320 px, one h1 and no skipped heading levels,
errors tied to their fields with `aria-describedby`, and no request leaving our own host.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
BLOCKING_IMPACTS = {"serious", "critical"}
MIN_TARGET_PX = 44
NARROW_PHONE_PX = 320

_TARGETS_JS = """
(min) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  const problems = [];
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    let box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= 0 || box.bottom <= 0) continue;
    // WCAG 2.5.5 exception: a link inside a sentence is sized by the text around it.
    if (el.tagName === 'A' && style.display === 'inline' && el.closest('p')) continue;
    // A radio button or checkbox is hit through its label or the row that holds it.
    if (el.type === 'radio' || el.type === 'checkbox') {
      const holder = el.closest('label, .choice') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (holder) box = holder.getBoundingClientRect();
    }
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      problems.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 40)}" is ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return problems;
}
"""

_HEADINGS_JS = """
() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1]))
"""

_ERRORS_JS = """
() => {
  const problems = [];
  const described = new Set();
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
    ids.forEach(id => described.add(id));
    const texts = ids.map(id => document.getElementById(id)).filter(Boolean)
      .map(e => e.textContent.trim()).filter(Boolean);
    if (!texts.length) problems.push(`${el.name || el.id} is invalid but describes no error`);
  }
  for (const el of document.querySelectorAll('[aria-describedby]')) {
    el.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean).forEach(id => described.add(id));
  }
  for (const list of document.querySelectorAll('ul.errorlist[id], .field-error[id]')) {
    if (!described.has(list.id)) problems.push(`error #${list.id} is tied to no field`);
  }
  return problems;
}
"""

_FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const ring = s.boxShadow && s.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || el.name || '').trim().slice(0, 40),
          visible: outline || ring};
}
"""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass
class Phone:
    """One browser tab at phone size plus everything it requested."""

    page: Any
    recorder: Any
    sites: Any
    artifacts: Path
    # axe-core resolves its result through timers, which never fire with scripting off; pages
    # without JavaScript get every other check, and the same pages are axe-checked with it.
    javascript: bool = True
    checked: list[str] = field(default_factory=list)

    # --- navigation -------------------------------------------------------------------------
    def goto(self, url: str) -> Any:
        return self.page.goto(url, wait_until="load")

    def path(self) -> str:
        parts = urlsplit(self.page.url)
        return parts.path

    def host(self) -> str:
        return urlsplit(self.page.url).netloc

    # --- evidence ---------------------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        target = self.artifacts / f"{_slug(name)}.png"
        # CSS-pixel scale keeps the files small enough to commit the key ones to docs/.
        self.page.screenshot(path=str(target), full_page=True, scale="css")
        return target

    # --- the checks -------------------------------------------------------------------------
    def axe_violations(self, name: str = "") -> list[str]:
        results = _AXE.run(self.page)
        if name:
            # Every finding, minor ones too, for a person to review next to the screenshot.
            report = self.artifacts.parent / "axe" / f"{_slug(name)}.json"
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(
                json.dumps(
                    [
                        {
                            "id": v["id"],
                            "impact": v.get("impact"),
                            "help": v["help"],
                            "targets": [n["target"] for n in v["nodes"]],
                        }
                        for v in results.response["violations"]
                    ],
                    indent=2,
                )
            )
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:3])
            for v in results.response["violations"]
            if v.get("impact") in BLOCKING_IMPACTS
        ]

    def small_targets(self) -> list[str]:
        return self.page.evaluate(_TARGETS_JS, MIN_TARGET_PX)

    def heading_problems(self) -> list[str]:
        levels = self.page.evaluate(_HEADINGS_JS)
        problems = []
        if levels.count(1) != 1:
            problems.append(f"expected exactly one h1, found {levels.count(1)}")
        if levels and levels[0] != 1:
            problems.append(f"the first heading is h{levels[0]}, not h1")
        for before, after in zip(levels, levels[1:], strict=False):
            if after > before + 1:
                problems.append(f"h{before} is followed by h{after}")
        return problems

    def error_problems(self) -> list[str]:
        return self.page.evaluate(_ERRORS_JS)

    def horizontal_overflow_at(self, width: int) -> int:
        """How many CSS pixels the page is wider than a `width`-pixel screen (0 is right)."""
        original = self.page.viewport_size
        self.page.set_viewport_size({"width": width, "height": original["height"]})
        try:
            return self.page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
        finally:
            self.page.set_viewport_size(original)

    def focus_problems(self, *, max_stops: int = 30) -> list[str]:
        """Tab through the page; every stop must show a focus indicator."""
        problems = []
        self.page.evaluate(
            "() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"
        )
        seen = 0
        for _ in range(max_stops):
            self.page.keyboard.press("Tab")
            state = self.page.evaluate(_FOCUS_JS)
            if state is None:
                break
            seen += 1
            if not state["visible"]:
                problems.append(f'{state["tag"]} "{state["text"]}" shows no visible focus')
        if seen == 0:
            problems.append("nothing on the page takes keyboard focus")
        return problems

    def foreign_hosts(self) -> set[str]:
        return self.recorder.hosts() - self.sites.hosts

    def lang(self) -> str:
        return self.page.evaluate("() => document.documentElement.lang")

    def check(self, name: str, *, focus: bool = True) -> None:
        """Screenshot, then every accessibility and hygiene check; one failure lists them all."""
        self.screenshot(name)
        problems: list[str] = []
        if self.javascript:
            problems += [f"axe: {v}" for v in self.axe_violations(name)]
        lang = self.lang()
        if not re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2})?", lang or ""):
            problems.append(f"<html lang> is {lang!r}")
        problems += [f"target: {p}" for p in self.small_targets()]
        problems += [f"headings: {p}" for p in self.heading_problems()]
        problems += [f"errors: {p}" for p in self.error_problems()]
        overflow = self.horizontal_overflow_at(NARROW_PHONE_PX)
        if overflow > 0:
            problems.append(f"scrolls sideways by {overflow}px at {NARROW_PHONE_PX}px wide")
        if focus:
            problems += [f"focus: {p}" for p in self.focus_problems()]
        foreign = self.foreign_hosts()
        if foreign:
            problems.append(f"third-party requests to {sorted(foreign)}")
        self.checked.append(name)
        assert not problems, f"{name} ({self.page.url}):\n  " + "\n  ".join(problems)
