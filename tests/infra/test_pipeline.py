"""azure-pipelines.yml: valid against the official Azure Pipelines schema, and wired as docs/deploy.md says."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import REPO_ROOT, tool

PIPELINE = REPO_ROOT / "azure-pipelines.yml"

_YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"


def validate(path: Path) -> dict:
    """check-jsonschema's JSON verdict on a pipeline file (the schema that ships with it)."""
    command = [
        str(tool("check-jsonschema")),
        "--builtin-schema", "vendor.azure-pipelines",
        "--regex-variant", "nonunicode",
        "--output-format", "json",
        str(path),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    verdict = json.loads(completed.stdout)
    assert (completed.returncode == 0) == (verdict["status"] == "ok"), completed.stderr
    return verdict


@pytest.fixture(scope="module")
def pipeline() -> dict:
    completed = subprocess.run(
        [str(tool("python")), "-c", _YAML_TO_JSON, str(PIPELINE)], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def _steps(job: dict) -> list[dict]:
    return job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]


def _stage(pipeline: dict, name: str) -> dict:
    return next(stage for stage in pipeline["stages"] if stage["stage"] == name)


def test_pipeline_is_valid():
    verdict = validate(PIPELINE)
    assert verdict["status"] == "ok", verdict["errors"][:3]


def test_a_misspelled_task_is_rejected(tmp_path):
    text = PIPELINE.read_text()
    assert "task: AzureFunctionApp@2" in text
    copy = tmp_path / "azure-pipelines.yml"
    copy.write_text(text.replace("task: AzureFunctionApp@2", "task: AzureFunctionsApp@2"))
    assert validate(copy)["status"] == "fail"


def test_stages_run_in_delivery_order(pipeline):
    assert [s["stage"] for s in pipeline["stages"]] == ["Build", "Infra", "Staging", "Production"]
    assert _stage(pipeline, "Infra")["dependsOn"] == "Build"
    assert _stage(pipeline, "Staging")["dependsOn"] == "Infra"
    assert "Staging" in _stage(pipeline, "Production")["dependsOn"]
    for name in ("Staging", "Production"):
        assert "isPullRequest, 'true'" in _stage(pipeline, name)["condition"]


def test_build_runs_the_suite_publishes_results_and_the_zip(pipeline):
    steps = _steps(_stage(pipeline, "Build")["jobs"][0])
    scripts = [s.get("script", "") for s in steps]
    assert "make test" in scripts and "make lint" in scripts
    tasks = [s.get("task") for s in steps]
    assert tasks.count("PublishTestResults@2") == 2 and "PublishCodeCoverageResults@1" in tasks
    assert any("checkov" in s and "--skip-download" in s for s in scripts)
    package = next(s for s in scripts if "scripts/package.py" in s)
    artifact = next(s for s in steps if s.get("task") == "PublishPipelineArtifact@1")
    assert Path(artifact["inputs"]["targetPath"]).name == Path(package.split("--output")[1].strip()).name


def test_infra_what_if_on_pull_requests_and_deploys_otherwise(pipeline):
    jobs = {job["job"]: job for job in _stage(pipeline, "Infra")["jobs"]}
    assert "eq(variables.isPullRequest, 'true')" in jobs["WhatIf"]["condition"]
    assert "az deployment sub what-if" in json.dumps(_steps(jobs["WhatIf"]))
    assert "ne(variables.isPullRequest, 'true')" in jobs["Deploy"]["condition"]
    assert "az deployment sub create" in json.dumps(_steps(jobs["Deploy"]))


def test_staging_deploys_the_zip_to_the_slot_and_smoke_tests_it(pipeline):
    job = _stage(pipeline, "Staging")["jobs"][0]
    steps = _steps(job)
    deploy = next(s for s in steps if s.get("task") == "AzureFunctionApp@2")["inputs"]
    assert deploy["slotName"] == "staging" and deploy["deployToSlotOrASE"] is True
    assert deploy["package"].endswith("/app/forecastops.zip")
    smoke = next(s for s in steps if s.get("inputs", {}).get("scriptPath") == "scripts/smoke_azure.sh")
    assert " staging " in smoke["inputs"]["arguments"]


def test_production_needs_its_environment_and_swaps_back_on_failure(pipeline):
    job = _stage(pipeline, "Production")["jobs"][0]
    assert job["environment"] == "forecastops-production"
    steps = _steps(job)
    swaps = [i for i, s in enumerate(steps) if s.get("task") == "AzureAppServiceManage@0"]
    smoke = next(i for i, s in enumerate(steps) if "production" in s.get("inputs", {}).get("arguments", ""))
    assert len(swaps) == 2 and swaps[0] < smoke < swaps[1]
    for index in swaps:
        inputs = steps[index]["inputs"]
        assert inputs["Action"] == "Swap Slots" and inputs["SourceSlot"] == "staging"
    assert steps[swaps[1]]["condition"].startswith("and(failed()")
    assert "swapped" in steps[swaps[1]]["condition"]


def test_every_script_the_pipeline_runs_exists():
    referenced = set(re.findall(r"scripts/[\w.]+", PIPELINE.read_text()))
    assert referenced >= {"scripts/package.py", "scripts/smoke_azure.sh", "scripts/eventgrid_subscription.sh"}
    for path in referenced:
        assert (REPO_ROOT / path).is_file(), path


def test_no_secret_in_the_pipeline():
    text = PIPELINE.read_text()
    assert not re.search(r"(?i)(AccountKey=|SharedAccessSignature|code=[A-Za-z0-9_\-]{20,}|password\s*:)", text)
    assert "- group: forecastops" in text
