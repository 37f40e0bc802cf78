"""The `flatpeak-check` console script stands alone: only `requests` and the standard library,
no Django settings, nothing of the server's code; bad options and an unreachable deployment are
clear errors with their own exit codes. Full runs against a live demo server are in
`tests/provider_auth/test_flatpeak_check.py`, next to the server fixture."""

from __future__ import annotations

import ast
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import flatpeak_check
from flatpeak_check import cli
from provider_auth.management.commands.flatpeak_check import Command

PACKAGE = Path(flatpeak_check.__file__).resolve().parent
# Importing any of these must fail inside the package's process: it runs where they are absent.
BLOCKED = ("django", "provider_auth", "accounts", "environ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_package_imports_only_requests_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"requests", "flatpeak_check"}
    foreign = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            foreign += [f"{path.name}: {n}" for n in names if n.split(".")[0] not in allowed]
    assert foreign == []


@pytest.mark.parametrize("entry", ["-m", "main"])
def test_the_console_script_runs_without_django_or_its_settings(tmp_path: Path, entry: str) -> None:
    """A copy of the package alone, on a machine where Django cannot be imported and no settings
    module is named: `--help` works and every module of the package imports."""
    shutil.copytree(PACKAGE, tmp_path / "flatpeak_check", ignore=shutil.ignore_patterns("*.pyc"))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.pop("PYTHONPATH", None)
    block = "; ".join(f"sys.modules[{name!r}] = None" for name in BLOCKED)
    run_help = (
        "import runpy; sys.argv = ['flatpeak-check', '--help']; "
        "runpy.run_module('flatpeak_check', run_name='__main__')"
        if entry == "-m"
        else "from flatpeak_check.cli import main; sys.exit(main(['--help']))"
    )
    script = (
        f"import sys; {block}; "
        "import pkgutil, importlib, flatpeak_check; "
        "assert flatpeak_check.__file__.startswith(sys.argv[1]), flatpeak_check.__file__; "
        "[importlib.import_module('flatpeak_check.' + m.name) "
        " for m in pkgutil.iter_modules(flatpeak_check.__path__) if m.name != '__main__']; "
        f"{run_help}"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: flatpeak-check")
    for option in ("--base-url", "--email", "--password", "--sandbox-url", "--timeout"):
        assert option in done.stdout


def test_python_dash_m_flatpeak_check_prints_its_help() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "flatpeak_check", "--help"],
        cwd=PACKAGE.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Exit code 0 only if every check passes" in " ".join(done.stdout.split())


def test_a_relative_base_url_is_a_usage_error_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--base-url", "example.org", "--email", "e", "--password", "p"])
    assert exited.value.code == 2
    assert (
        "--base-url must be an absolute http(s) URL, not 'example.org'" in capsys.readouterr().err
    )


def test_missing_options_are_a_usage_error_with_exit_code_2() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--base-url", "http://127.0.0.1:1"])
    assert exited.value.code == 2


def test_an_unreachable_deployment_fails_with_exit_code_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    code = cli.main(
        ["--base-url", base, "--email", "e@example.com", "--password", "p", "--timeout", "2"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert out.startswith(f"flatpeak_check against {base} as e@example.com\n")
    assert "FAIL 1.1 OAuth metadata is published with absolute URLs" in out
    assert "\x1b[" not in out  # not a terminal: no colours
    assert "12 checks: 0 passed, 12 failed" in out
    assert err.startswith("flatpeak-check: FlatPeak conformance failed: 1.1 OAuth metadata")


def test_the_management_command_takes_the_console_scripts_options() -> None:
    def options(parser: object) -> dict[str, tuple[object, object]]:
        return {
            action.option_strings[-1]: (action.default, action.choices)
            for action in parser._actions  # type: ignore[attr-defined]
            if action.option_strings
        }

    script = options(cli.build_parser())
    command = options(Command().create_parser("manage.py", "flatpeak_check"))
    ours = {k: v for k, v in script.items() if k not in {"--help", "--no-color"}}
    assert ours and all(command.get(k) == v for k, v in ours.items())
    assert Command.help == cli.DESCRIPTION
