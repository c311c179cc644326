"""scripts/smoke_azure.sh and scripts/eventgrid_subscription.sh, with a recording `az` on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.infra.conftest import REPO_ROOT

# Answers `az functionapp show` and `az functionapp keys list` like Azure, records every call.
FAKE_AZ = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$CALLS"
case "$*" in
  "functionapp show"*"--slot staging"*) echo "func-abc-staging.azurewebsites.net" ;;
  "functionapp show"*) echo "func-abc.azurewebsites.net" ;;
  "functionapp keys list"*"functionKeys.default"*) echo "function-key-123" ;;
  "functionapp keys list"*"systemKeys.blobs_extension"*) echo "blobs-key-456" ;;
esac
"""

# Stands in for the Python that smoke_azure.sh hands over to: records its arguments and the key.
FAKE_PYTHON = """#!/usr/bin/env bash
printf '%s\\n' "python3 $* key=$FORECASTOPS_FUNCTION_KEY" >> "$CALLS"
"""


def run(
    script: str, *args: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("az", FAKE_AZ), ("python3", FAKE_PYTHON)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls.txt"
    calls.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), "TF_BUILD": "True"}
    env.pop("SMOKE_ALLOW_MISSING_CHAMPION", None)
    env.update(extra_env or {})
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / script), *args], env=env, capture_output=True, text=True, timeout=60
    )
    return completed, calls.read_text().splitlines() if calls.exists() else []


def test_smoke_azure_tests_the_staging_slot_with_its_key(tmp_path):
    args = ("rg-x", "func-abc", "staging", "--allow-missing-champion")
    completed, calls = run("smoke_azure.sh", *args, tmp_path=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert all("--slot staging" in call for call in calls if call.startswith("functionapp"))
    assert calls[-1].startswith("python3 ") and calls[-1].endswith(
        "scripts/smoke_test.py --base-url https://func-abc-staging.azurewebsites.net"
        " --allow-missing-champion key=function-key-123"
    )
    assert "##vso[task.setsecret]function-key-123" in completed.stdout


def test_smoke_azure_tests_production_without_slot(tmp_path):
    completed, calls = run("smoke_azure.sh", "rg-x", "func-abc", "production", tmp_path=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert not any("--slot" in call for call in calls)
    assert "--base-url https://func-abc.azurewebsites.net key=function-key-123" in calls[-1]


def test_smoke_azure_first_deployment_option_comes_from_the_environment(tmp_path):
    args = ("rg-x", "func-abc", "staging", "--timeout", "600")
    completed, calls = run(
        "smoke_azure.sh", *args, tmp_path=tmp_path, extra_env={"SMOKE_ALLOW_MISSING_CHAMPION": "True"}
    )
    assert completed.returncode == 0, completed.stderr
    assert "--allow-missing-champion --timeout 600 key=" in calls[-1]
    completed, calls = run(
        "smoke_azure.sh", *args, tmp_path=tmp_path, extra_env={"SMOKE_ALLOW_MISSING_CHAMPION": "False"}
    )
    assert completed.returncode == 0 and "--allow-missing-champion" not in calls[-1]
    completed, calls = run(
        "smoke_azure.sh", *args, tmp_path=tmp_path, extra_env={"SMOKE_ALLOW_MISSING_CHAMPION": "$(x)"}
    )
    assert completed.returncode == 2 and "must be true or false" in completed.stderr
    assert calls == []


def test_smoke_azure_needs_three_arguments(tmp_path):
    completed, calls = run("smoke_azure.sh", "rg-x", "func-abc", tmp_path=tmp_path)
    assert completed.returncode == 2 and "usage:" in completed.stderr
    assert calls == []


def test_eventgrid_subscription_points_blob_created_of_incoming_at_ingest(tmp_path):
    completed, calls = run("eventgrid_subscription.sh", "rg-x", "func-abc", "evgst-abc", tmp_path=tmp_path)
    assert completed.returncode == 0, completed.stderr
    create = next(call for call in calls if call.startswith("eventgrid system-topic event-subscription create"))
    words = create.split()

    def option(name: str) -> str:
        return words[words.index(name) + 1]

    assert option("--system-topic-name") == "evgst-abc" and option("--resource-group") == "rg-x"
    assert option("--endpoint") == (
        "https://func-abc.azurewebsites.net/runtime/webhooks/blobs?functionName=Host.Functions.ingest&code=blobs-key-456"
    )
    assert option("--included-event-types") == "Microsoft.Storage.BlobCreated"
    assert option("--subject-begins-with") == "/blobServices/default/containers/sales-incoming/"
    assert option("--endpoint-type") == "webhook"
    assert "##vso[task.setsecret]blobs-key-456" in completed.stdout
    assert "blobs-key-456" not in completed.stdout.replace("##vso[task.setsecret]blobs-key-456", "")
