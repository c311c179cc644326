"""azure-pipelines.yml: valid against the official Azure Pipelines schema, and wired as docs/deploy.md says."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import INFRA, REPO_ROOT, tool

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
    assert [s["stage"] for s in pipeline["stages"]] == ["Build", "Infra", "Staging", "Production", "BulkRetrain"]
    assert _stage(pipeline, "Infra")["dependsOn"] == "Build"
    # A scheduled run only re-selects models: it never deploys or swaps.
    assert "ne(variables.isSchedule, 'true')" in _stage(pipeline, "Infra")["condition"]
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
    # Role assignments reach the data plane minutes after they exist: the staging smoke test's health
    # wait (storage reachable with the slot's identity) is bounded at 10 minutes.
    assert smoke["inputs"]["arguments"].endswith("--timeout 600")


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
    modules = set(re.findall(r"python -m scripts\.(\w+)", PIPELINE.read_text()))
    assert modules == {"content_shares", "wait_for_roles"}
    for module in modules:
        assert (REPO_ROOT / "scripts" / f"{module}.py").is_file(), module


def test_no_secret_in_the_pipeline():
    text = PIPELINE.read_text()
    assert not re.search(r"(?i)(AccountKey=|SharedAccessSignature|code=[A-Za-z0-9_\-]{20,}|password\s*:)", text)
    assert "- group: forecastops" in text


# --- One code mode: run from package, as the Bicep sets it -------------------------------------------


def test_the_zip_runs_from_package_like_the_bicep_says(pipeline, bicep_documents):
    deploys = [
        s["inputs"]
        for stage in pipeline["stages"]
        for job in stage["jobs"]
        for s in _steps(job)
        if s.get("task") == "AzureFunctionApp@2"
    ]
    assert deploys and all(d["deploymentMethod"] == "runFromPackage" for d in deploys)
    function = bicep_documents[INFRA / "app" / "function.bicep"]
    common = {s["name"]: s["value"] for s in function["variables"]["commonSettings"]["value"]}
    assert common["WEBSITE_RUN_FROM_PACKAGE"] == "1"
    assert "deploymentMethod: zipDeploy" not in PIPELINE.read_text()


def test_schema_rejects_an_unknown_deployment_method(tmp_path):
    copy = tmp_path / "azure-pipelines.yml"
    copy.write_text(PIPELINE.read_text().replace("deploymentMethod: runFromPackage", "deploymentMethod: runFromZip"))
    assert validate(copy)["status"] == "fail"


# --- Smoke options: never a literal macro ------------------------------------------------------------

TEMPLATE = re.compile(r"\$\{\{\s*parameters\.(?P<name>\w+)\s*\}\}")
MACRO = re.compile(r"\$\((?P<name>[\w.]+)\)")


def expand(text: str, parameters: dict[str, object], variables: dict[str, str]) -> str:
    """Azure Pipelines' expansion of a step input, as far as this pipeline uses it.

    Compile time: `${{ parameters.X }}` becomes the parameter's value (booleans as True/False).
    Run time: `$(X)` becomes the variable's value; a variable that is undefined or empty leaves the
    macro as literal text, which is what reaches the script.
    """
    text = TEMPLATE.sub(lambda m: str(parameters[m["name"]]), text)
    if "${{" in text:
        raise ValueError(f"a template expression this expander does not know: {text}")
    return MACRO.sub(lambda m: variables.get(m["name"]) or m.group(0), text)


def _compile_time_variables(pipeline: dict, parameters: dict) -> dict[str, str]:
    """Top-level variables whose value is known when the YAML compiles (template expressions evaluated)."""
    known = {}
    for item in pipeline["variables"]:
        if "name" in item:
            value = item["value"]
            known[item["name"]] = "" if value.startswith("${{") and "parameters." in value else value
    return known


def _smoke_steps(pipeline: dict) -> list[tuple[dict, dict]]:
    return [
        (stage, step)
        for stage in pipeline["stages"]
        for job in stage["jobs"]
        for step in _steps(job)
        if step.get("inputs", {}).get("scriptPath") == "scripts/smoke_azure.sh"
    ]


def test_the_expander_keeps_a_macro_of_an_empty_variable_literal():
    """The defect this guards against: `$(smokeOptions)` with an empty value reached the script as text."""
    assert expand("a $(smokeOptions)", {}, {"smokeOptions": ""}) == "a $(smokeOptions)"
    assert expand("a $(x) ${{ parameters.p }}", {"p": True}, {"x": "1"}) == "a 1 True"


@pytest.mark.parametrize("first_deployment", [True, False])
def test_smoke_options_never_reach_the_script_as_a_macro(pipeline, first_deployment, tmp_path):
    from tests.infra.test_deploy_scripts import run

    parameters = {p["name"]: p["default"] for p in pipeline["parameters"]} | {"firstDeployment": first_deployment}
    smoke_steps = _smoke_steps(pipeline)
    assert len(smoke_steps) == 2
    for stage, step in smoke_steps:
        # Stage variables come from the Infra outputs at run time (deployment_outputs.py fails if missing).
        variables = _compile_time_variables(pipeline, parameters) | dict.fromkeys(stage["variables"], "set-at-runtime")
        arguments = expand(step["inputs"]["arguments"], parameters, variables)
        env = {name: expand(str(value), parameters, variables) for name, value in step.get("env", {}).items()}
        assert "$(" not in arguments + "".join(env.values()), (arguments, env)
        assert env["SMOKE_ALLOW_MISSING_CHAMPION"] == str(first_deployment)
        # What smoke_azure.sh makes of it, with a recording `az` and `python3`.
        words = arguments.replace("set-at-runtime", "x").split()
        completed, calls = run("smoke_azure.sh", *words, tmp_path=tmp_path, extra_env=env)
        assert completed.returncode == 0, completed.stderr
        assert ("--allow-missing-champion" in calls[-1]) is first_deployment


# --- Infra: current content shares in, outputs read without case, roles waited for ------------------


def test_infra_keeps_content_shares_and_reads_outputs_without_case(pipeline, bicep_documents):
    jobs = {job["job"]: job for job in _stage(pipeline, "Infra")["jobs"]}
    for name in ("WhatIf", "Deploy"):
        script = next(s for s in _steps(jobs[name]) if s.get("task") == "AzureCLI@2")["inputs"]["inlineScript"]
        shares = script.index("python -m scripts.content_shares --resource-group")
        assert shares < script.index("scripts/resolve_parameters.py") < script.index("az deployment sub")
    deploy = next(s for s in _steps(jobs["Deploy"]) if s.get("task") == "AzureCLI@2")
    script = deploy["inputs"]["inlineScript"]
    assert "outputs[" not in script  # no exact-name lookup left
    pairs = dict(re.findall(r"(\w+)=(AZURE_[A-Z_]+)", script))
    assert pairs == {
        "resourceGroup": "AZURE_RESOURCE_GROUP",
        "functionAppName": "AZURE_FUNCTION_APP_NAME",
        "systemTopic": "AZURE_EVENTGRID_SYSTEM_TOPIC",
    }
    # Every stage variable read from the Infra outputs is one that deployment_outputs.py publishes.
    for stage in ("Staging", "Production"):
        for value in _stage(pipeline, stage)["variables"].values():
            assert re.search(r"outputs\['outputs\.(\w+)'\]", value)[1] in pairs
    assert script.index("deployment_outputs.py") < script.index("scripts.wait_for_roles")
    assert "--timeout 600" in script[script.index("scripts.wait_for_roles") :]
    # The resource group the shares are read from is the one main.bicep names.
    variables = {v["name"]: v["value"] for v in pipeline["variables"] if "name" in v}
    assert variables["resourceGroupName"] == "rg-forecastops-$(AZURE_ENV_NAME)"
    assert "'${abbrs.resourcesResourceGroups}forecastops-${environmentName}'" in (INFRA / "main.bicep").read_text()
    assert json.loads((INFRA / "abbreviations.json").read_text())["resourcesResourceGroups"] == "rg-"


# --- Bulk retraining on Azure ML: optional, scheduled, never on pull requests -----------------------


def test_bulk_retraining_is_scheduled_on_main_and_gated(pipeline):
    (schedule,) = pipeline["schedules"]
    assert schedule["branches"]["include"] == ["main"] and schedule["always"] == "true"
    stage = _stage(pipeline, "BulkRetrain")
    condition = " ".join(stage["condition"].split())
    assert condition.startswith("and(succeeded(), ne(variables.isPullRequest, 'true'),")
    assert "and(eq(variables.isSchedule, 'true'), eq(variables['ENABLE_SCHEDULED_BULK_RETRAIN'], 'true'))" in condition
    assert "eq('${{ parameters.bulkRetrain }}', 'True')" in condition
    parameters = {p["name"]: p for p in pipeline["parameters"]}
    assert parameters["bulkRetrain"]["type"] == "boolean" and parameters["bulkRetrain"]["default"] == "false"
    assert stage["dependsOn"] == "Build"


def test_bulk_retraining_submits_the_train_command(pipeline):
    steps = _steps(_stage(pipeline, "BulkRetrain")["jobs"][0])
    submit = next(s for s in steps if s.get("task") == "AzureCLI@2")
    script = submit["inputs"]["inlineScript"]
    command = script[script.index("python -m shared.cli train") :]
    for option, value in (
        ("--on", "azureml"),
        ("--resource-group", '"$resource_group"'),
        ("--workspace", '"$workspace"'),
        ("--instance-count", '"$BULK_INSTANCE_COUNT"'),
        ("--max-concurrency", '"$BULK_MAX_CONCURRENCY"'),
    ):
        assert f"{option} {value}" in command, option
    assert '--subscription "$(az account show --query id --output tsv)"' in command
    assert '(--prefix "$BULK_PREFIX")' in script
    # Workspace and resource group come from the deployment's outputs, read without case.
    assert 'deployment_outputs.py "$outputs" --get AZURE_ML_WORKSPACE_NAME' in script
    env = submit["env"]
    assert env == {
        "BULK_PREFIX": "${{ parameters.bulkPrefix }}",
        "BULK_INSTANCE_COUNT": "${{ parameters.bulkInstanceCount }}",
        "BULK_MAX_CONCURRENCY": "${{ parameters.bulkMaxConcurrency }}",
    }
    install = next(s["script"] for s in steps if "script" in s)
    assert "-r requirements.txt" in install and "--no-deps -e ." in install


FAKE_PYTHON_FOR_BULK = """#!/usr/bin/env bash
if [[ $1 == -m && $2 == shared.cli ]]; then printf '%s\\n' "$*" >> "$CALLS"; exit 0; fi
exec "$REAL_PYTHON" "$@"
"""

FAKE_AZ_FOR_BULK = """#!/usr/bin/env bash
case "$*" in
  "deployment sub show"*) cat "$OUTPUTS" ;;
  "account show"*) echo "00000000-1111-2222-3333-444444444444" ;;
  *) echo "unexpected az $*" >&2; exit 3 ;;
esac
"""


def _run_bulk_script(
    pipeline: dict, tmp_path: Path, outputs: dict, prefix: str
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The BulkRetrain stage's script as the agent runs it, with a recording `az` and CLI."""
    import sys

    submit = next(s for s in _steps(_stage(pipeline, "BulkRetrain")["jobs"][0]) if s.get("task") == "AzureCLI@2")
    script = expand(
        submit["inputs"]["inlineScript"], {}, {"Agent.TempDirectory": str(tmp_path), "AZURE_ENV_NAME": "prod"}
    )
    assert "$(" not in script.replace("$(python", "").replace("$(az", "")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("python", FAKE_PYTHON_FOR_BULK), ("az", FAKE_AZ_FOR_BULK)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    deployed = tmp_path / "deployed.json"
    deployed.write_text(json.dumps(outputs))
    calls = tmp_path / "calls.txt"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "REAL_PYTHON": sys.executable,
        "CALLS": str(calls),
        "OUTPUTS": str(deployed),
        "BULK_PREFIX": prefix,
        "BULK_INSTANCE_COUNT": "2",
        "BULK_MAX_CONCURRENCY": "3",
    }
    completed = subprocess.run(
        ["bash", "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    return completed, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize(("prefix", "expected_prefix"), [(" ", []), ("store-1", ["--prefix", "store-1"])])
def test_bulk_retraining_script_runs_with_outputs_of_any_case(pipeline, tmp_path, prefix, expected_prefix):
    # ARM handed the names back in another case.
    outputs = {
        "azurE_RESOURCE_GROUP": {"type": "String", "value": "rg-forecastops-prod"},
        "AZURE_ML_workspace_NAME": {"type": "String", "value": "mlw-abc"},
    }
    completed, calls = _run_bulk_script(pipeline, tmp_path, outputs, prefix)
    assert completed.returncode == 0, completed.stderr
    (call,) = calls
    assert call.split() == [
        "-m", "shared.cli", "train", "--on", "azureml",
        "--subscription", "00000000-1111-2222-3333-444444444444",
        "--resource-group", "rg-forecastops-prod", "--workspace", "mlw-abc",
        "--instance-count", "2", "--max-concurrency", "3", *expected_prefix,
    ]  # fmt: skip


def test_bulk_retraining_script_stops_without_a_workspace(pipeline, tmp_path):
    outputs = {
        "AZURE_RESOURCE_GROUP": {"type": "String", "value": "rg-forecastops-prod"},
        "AZURE_ML_WORKSPACE_NAME": {"type": "String", "value": ""},
    }
    completed, calls = _run_bulk_script(pipeline, tmp_path, outputs, " ")
    assert completed.returncode == 1
    assert "set ENABLE_AZURE_ML=true" in completed.stderr
    assert calls == []


def test_pull_request_validation_is_documented_for_azure_repos(pipeline):
    """YAML `pr:` triggers are ignored by Azure Repos: the what-if needs a build-validation policy."""
    assert pipeline["pr"]["branches"]["include"] == ["main"]  # honoured for GitHub repositories
    docs = (REPO_ROOT / "docs" / "deploy.md").read_text()
    section = docs[docs.index("### Pull requests") :]
    section = section[: section.index("\n## ")]
    assert "Build Validation" in section and "`main`" in section and "PullRequest" in section
    assert "build-validation branch policy on main" in PIPELINE.read_text()
