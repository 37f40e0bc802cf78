"""Comments and docstrings explain the code in its own terms, and the FlatPeak contract they cite
is the project's own `docs/flatpeak-contract.md`, whose module, function and setting names stay
true as the code moves."""

from __future__ import annotations

import os
import re
from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "flatpeak-contract.md"
SCANNED = ("*.py", "*.html", "*.sh", "*.toml", "*.yml", "*.conf", "Makefile", ".env.example")
SKIPPED_DIRS = {
    ".venv",
    ".git",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "node_modules",
    "staticfiles",
    "test-artifacts",
    "peer",
}
# Citations a reader of the repository cannot follow: work items, people, files outside it, and
# "the contract" without saying which document. (Built from pieces so this file does not match.)
FORBIDDEN = re.compile(
    "|".join(
        [
            r"\b[Ii]ssue[ -]?#?\d",
            r"\b[Ee]ngineers?\b",
            r"\b[A-H]'s\b",
            r"\.\./" + r"shared/",
            r"/work" + r"/",
            r"\b[Cc]ontract \(?§\d",
            r"contract file",
        ]
    )
)
# Files other work is rewriting at the same time: their wording follows once that work is merged.
PENDING: set[str] = set()


def _scanned_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]  # never walk into the venv
        found += [Path(folder, f) for f in files if any(fnmatch(f, p) for p in SCANNED)]
    return sorted(found)


def test_no_comment_cites_an_issue_an_engineer_or_a_file_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    hits = []
    for path in _scanned_files():
        name = str(path.relative_to(ROOT))
        if path == this or name in PENDING:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if FORBIDDEN.search(line):
                hits.append(f"{name}:{number}: {line.strip()}")
    assert hits == []


def test_the_readme_links_the_flatpeak_contract() -> None:
    assert "(docs/flatpeak-contract.md)" in (ROOT / "README.md").read_text()


def _bullets(text: str) -> list[str]:
    """Each list item of the contract as one line."""
    items: list[str] = []
    for line in text.splitlines():
        if re.match(r"\s*- ", line):
            items.append(line.strip()[2:])
        elif items and line.startswith(" ") and line.strip():
            items[-1] += " " + line.strip()
    return items


def test_every_file_the_contract_names_exists() -> None:
    text = CONTRACT.read_text()
    paths = set(
        re.findall(r"`((?:provider_auth|accounts|templates|flatpeak_check)/[\w/.]*)`", text)
    )
    for folder, names in re.findall(r"`([\w/]+/)` \(([^)]*)\)", text):
        paths |= {folder + n for n in re.findall(r"`([\w]+\.py)`", names)}
    assert paths
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []


def test_every_function_the_contract_names_is_defined_where_it_says() -> None:
    text = CONTRACT.read_text()
    missing, checked = [], 0
    for path, names in re.findall(r"`([\w/]+\.py)` \(([^)]*)\)", text):
        source = (ROOT / path).read_text()
        for name in re.findall(r"`([A-Za-z_][\w.]*)`", names):
            for part in name.split("."):
                checked += 1
                if not re.search(rf"^\s*(def|class) {part}\b|^{part}\b\s*[:=]", source, re.M):
                    missing.append(f"{path}: {part}")
    assert checked > 10
    assert missing == []


def test_every_setting_the_contract_names_exists() -> None:
    named: set[str] = set()
    for item in _bullets(CONTRACT.read_text()):
        for segment in re.findall(r"Settings?: (.*?)(?:Code:|$)", item):
            named |= set(re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]*\*?)`", segment))
    assert len(named) > 15
    unknown = [
        name
        for name in sorted(named)
        if not (
            any(s.startswith(name[:-1]) for s in dir(settings))
            if name.endswith("*")
            else hasattr(settings, name)
        )
    ]
    assert unknown == []
