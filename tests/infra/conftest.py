"""Helpers of the delivery tests: the validation tools of .venv-tools, Bicep parsing and the checkov report."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
TOOLS_BIN = REPO_ROOT / ".venv-tools" / "bin"

# Runs inside .venv-tools (pycep is installed with checkov there): parses each file given on the
# command line and prints {path: document} or {path: {"error": message}} as JSON.
_PARSE_BICEP = """
import json, pathlib, sys
from pycep import BicepParser
parser = BicepParser()
result = {}
for name in sys.argv[1:]:
    try:
        result[name] = parser.parse(file_path=pathlib.Path(name))
    except Exception as exc:
        result[name] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
json.dump(result, sys.stdout, default=str)
"""


def tool(name: str) -> Path:
    """Path of a validation tool; a missing tool fails the test (never skips it)."""
    path = TOOLS_BIN / name
    if not path.exists():
        pytest.fail(
            f"{path} not found: run `make install`, which installs requirements-tools.txt into .venv-tools",
            pytrace=False,
        )
    return path


def bicep_files(root: Path = INFRA) -> list[Path]:
    return sorted(root.rglob("*.bicep"))


def parse_bicep(paths: list[Path]) -> dict[Path, dict]:
    """Parse Bicep files with pycep; a file that does not parse maps to {"error": message}."""
    completed = subprocess.run(
        [str(tool("python")), "-c", _PARSE_BICEP, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {Path(name): document for name, document in json.loads(completed.stdout).items()}


def run_checkov(directory: Path) -> dict:
    """checkov's JSON report of the Bicep files under `directory` (offline: --skip-download)."""
    command = [
        str(tool("checkov")),
        "--directory", str(directory),
        "--framework", "bicep",
        "--skip-download",
        "--output", "json",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=directory)
    if not completed.stdout.strip():
        pytest.fail(f"checkov printed no report (exit {completed.returncode}): {completed.stderr[-2000:]}")
    report = json.loads(completed.stdout)
    # One framework gives one report object; an empty scan gives a bare summary.
    return report[0] if isinstance(report, list) else report


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, produce: Callable[[Path], None]) -> Path:
    """Path of `name`, produced once per test run and shared by the xdist workers (under a file lock).

    `produce(path)` must create `path` atomically (write elsewhere, then rename).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    target = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            produce(target)
    return target


@pytest.fixture(scope="session")
def bicep_documents() -> dict[Path, dict]:
    return parse_bicep(bicep_files())


@pytest.fixture(scope="session")
def checkov_report(tmp_path_factory) -> dict:
    def produce(path: Path) -> None:
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(run_checkov(INFRA)))
        partial.replace(path)

    return json.loads(once_per_run(tmp_path_factory, "checkov-infra.json", produce).read_text())
