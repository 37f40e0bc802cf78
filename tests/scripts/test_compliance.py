from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("compliance", ROOT / "scripts" / "compliance.py")
assert _spec and _spec.loader
compliance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compliance)

SAMPLE = """
import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.spec("ASVS 8.2.1")]


@pytest.mark.spec("RFC9700 4.14.2")
@pytest.mark.spec("ASVS 2.2.1")
def test_one():
    pass


@pytest.mark.spec("RFC6749 6")
class TestGroup:
    @pytest.mark.spec("RFC7009 2.1")
    def test_two(self):
        pass

    def helper(self):
        pass


def test_untagged():
    pass
"""


def _checkout(tmp_path: Path) -> Path:
    (tmp_path / "tests" / "pkg").mkdir(parents=True)
    (tmp_path / "tests" / "pkg" / "test_sample.py").write_text(SAMPLE)
    return tmp_path


def test_tags_on_functions_classes_and_pytestmark_are_collected(tmp_path: Path) -> None:
    matrix = compliance.collect(_checkout(tmp_path))
    one = "tests/pkg/test_sample.py::test_one"
    two = "tests/pkg/test_sample.py::TestGroup::test_two"
    untagged = "tests/pkg/test_sample.py::test_untagged"
    assert matrix["RFC9700 4.14.2"] == [one]
    assert matrix["ASVS 2.2.1"] == [one]
    assert matrix["RFC6749 6"] == [two]
    assert matrix["RFC7009 2.1"] == [two]
    assert matrix["ASVS 8.2.1"] == sorted([one, two, untagged])


def test_the_document_lists_requirements_tests_and_the_gaps(tmp_path: Path) -> None:
    text = compliance.render(compliance.collect(_checkout(tmp_path)))
    assert "## RFC 9700" in text and "| 4.14.2 |" in text
    assert "`tests/pkg/test_sample.py::test_one`" in text
    assert "## Requirements we do not meet" in text
    for ref, what, _ in compliance.GAPS:
        assert f"| {ref} | {what} |" in text
    # Standards appear in a fixed order: RFC 9700 first, ASVS after the RFCs.
    assert text.index("## RFC 9700") < text.index("## RFC 6749") < text.index("## OWASP ASVS")


def test_check_mode_fails_on_a_stale_file_and_passes_on_a_fresh_one(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    output = tmp_path / "compliance.md"
    output.write_text("old")
    args = ["--root", str(root), "--output", str(output)]
    assert compliance.main([*args, "--check"]) == 1
    assert compliance.main(args) == 0
    assert compliance.main([*args, "--check"]) == 0


def test_the_committed_matrix_is_not_empty() -> None:
    text = (ROOT / "docs" / "compliance.md").read_text()
    assert "RFC 9700" in text and "ASVS" in text and "do not meet" in text
