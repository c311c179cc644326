"""Wait until the role assignments of the app's identities are in place, then say what was waited for.

Usage (signed in with the Azure CLI, after `az deployment sub create`, from the repository root):
    python -m scripts.wait_for_roles OUTPUTS.json [--timeout 600] [--interval 15]

OUTPUTS.json holds the deployment outputs; AZURE_APP_ROLE_ASSIGNMENTS (matched without case) lists
{principalId, roleDefinitionId, role, scope}. Role assignments are made at the end of the deployment
and Azure documents that they take up to 10 minutes to apply, so the stage that deploys code
does not start until every listed assignment is readable at its scope. The data plane may lag
behind that a little more: the staging smoke test then waits, bounded as well, for /api/health to
report storage reachable with the slot's identity. Exit code 0 when everything appeared, 1 on
timeout (the message lists what is still missing), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.azure_cli import Az, AzureError, run_az
from scripts.deployment_outputs import OutputError, get_output, read_outputs

OUTPUT = "AZURE_APP_ROLE_ASSIGNMENTS"


def describe(assignment: dict[str, Any]) -> str:
    scope = assignment["scope"].rstrip("/").rsplit("/", 1)[-1]
    return f"{assignment.get('role') or assignment['roleDefinitionId']} for {assignment['principalId']} on {scope}"


def missing_assignments(expected: list[dict[str, Any]], az: Az) -> list[dict[str, Any]]:
    """The expected assignments that `az role assignment list` does not show yet (one call per scope)."""
    present: set[tuple[str, str, str]] = set()
    for scope in sorted({a["scope"] for a in expected}):
        listed = json.loads(
            az(["role", "assignment", "list", "--scope", scope,
                "--query", "[].{principalId: principalId, roleDefinitionId: roleDefinitionId}", "-o", "json"])
        )  # fmt: skip
        for item in listed:
            role = str(item["roleDefinitionId"]).rstrip("/").rsplit("/", 1)[-1].lower()
            present.add((scope, str(item["principalId"]).lower(), role))
    return [
        a
        for a in expected
        if (a["scope"], a["principalId"].lower(), a["roleDefinitionId"].rsplit("/", 1)[-1].lower()) not in present
    ]


def wait_for_roles(
    expected: list[dict[str, Any]],
    az: Az,
    timeout: float,
    interval: float,
    out: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll until every expected assignment is visible or `timeout` seconds passed; report as it goes."""
    start = clock()
    out(f"waiting up to {timeout:g}s for {len(expected)} role assignment(s):")
    for assignment in expected:
        out(f"  {describe(assignment)}")
    while True:
        missing = missing_assignments(expected, az)
        elapsed = clock() - start
        if not missing:
            out(f"all {len(expected)} role assignment(s) visible after {elapsed:.0f}s")
            return True
        if elapsed + interval > timeout:
            out(f"FAIL after {elapsed:.0f}s, {len(missing)} role assignment(s) still missing:")
            for assignment in missing:
                out(f"  {describe(assignment)}")
            return False
        out(f"{elapsed:.0f}s: {len(missing)} of {len(expected)} not visible yet")
        sleep(interval)


def main(argv: list[str] | None = None, az: Az = run_az) -> int:
    parser = argparse.ArgumentParser(prog="wait_for_roles.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("outputs", type=Path, help="JSON file of the deployment outputs")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait at most (default: %(default)s)")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between checks (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        expected = get_output(read_outputs(json.loads(args.outputs.read_text(encoding="utf-8"))), OUTPUT)
    except (OutputError, OSError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if not isinstance(expected, list) or not all(
        {"principalId", "roleDefinitionId", "scope"} <= set(a) for a in expected
    ):
        sys.stderr.write(f"error: {OUTPUT} must list {{principalId, roleDefinitionId, scope}} objects\n")
        return 2

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        done = wait_for_roles(expected, az, args.timeout, args.interval, out)
    except AzureError as exc:
        out(f"FAIL {exc}")
        return 1
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
