"""infra/: every Bicep file parses, checkov passes with written reasons, and the template matches the app."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from shared.settings import Settings, settings_from_env
from tests.infra.conftest import INFRA, bicep_files, parse_bicep, run_checkov

SKIP_COMMENT = re.compile(r"checkov:skip=(?P<check>[A-Z0-9_]+):(?P<reason>.*)$")
MODULE_PATH = re.compile(r"^module\s+\w+\s+'(?P<path>[^']+)'", re.MULTILINE)


def test_every_bicep_file_parses(bicep_documents):
    assert {p.relative_to(INFRA).as_posix() for p in bicep_documents} >= {"main.bicep", "app/function.bicep"}
    errors = {str(path): doc["error"] for path, doc in bicep_documents.items() if "error" in doc}
    assert errors == {}
    for path, document in bicep_documents.items():
        assert document.get("resources") or document.get("modules"), f"{path} declares nothing"


def test_a_broken_copy_is_rejected(tmp_path):
    text = (INFRA / "app" / "function.bicep").read_text()
    broken = tmp_path / "function.bicep"
    # Drop the closing brace of the slotConfigNames resource: the file no longer parses.
    start = text.index("resource slotConfigNames")
    end = text.index("\n}\n", start)
    broken.write_text(text[:end] + "\n" + text[end + 3 :])
    good = tmp_path / "good.bicep"
    good.write_text(text)
    result = parse_bicep([broken, good])
    assert "error" in result[broken]
    assert "error" not in result[good]


def test_every_module_path_exists():
    for path in bicep_files():
        for match in MODULE_PATH.finditer(path.read_text()):
            assert (path.parent / match["path"]).exists(), f"{path.name}: module {match['path']} not found"


def test_checkov_passes_with_no_parsing_errors(checkov_report):
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] >= 30 and summary["resource_count"] >= 30


def test_every_skipped_check_has_its_reason_in_the_bicep_file(checkov_report):
    reported = set()
    for check in checkov_report["results"]["skipped_checks"]:
        reason = check["check_result"]["suppress_comment"].strip()
        assert len(reason.split()) >= 6, f"{check['check_id']} on {check['resource']}: reason too short: {reason!r}"
        source = (INFRA / check["file_path"].lstrip("/")).read_text()
        assert f"checkov:skip={check['check_id']}:{reason}" in source
        reported.add((check["file_path"].lstrip("/"), check["check_id"], reason))
    written = {
        (path.relative_to(INFRA).as_posix(), m["check"], m["reason"].strip())
        for path in bicep_files()
        for line in path.read_text().splitlines()
        if (m := SKIP_COMMENT.search(line))
    }
    # No stale suppression: every skip written in a Bicep file is one checkov applied.
    assert written == reported


def test_checkov_reports_a_violation_and_a_parse_error(tmp_path):
    """The scan is not vacuous: a weakened copy fails, and a broken file counts as a parsing error."""
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    storage = copy / "app" / "storage.bicep"
    storage.write_text(storage.read_text().replace("minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'"))
    (copy / "app" / "broken.bicep").write_text("resource broken 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'x'\n")
    report = run_checkov(copy)
    failed = {(c["check_id"], c["file_path"]) for c in report["results"]["failed_checks"]}
    assert ("CKV_AZURE_44", "/app/storage.bicep") in failed
    assert report["summary"]["parsing_errors"] == 1


def _module_params(bicep_documents, name: str) -> dict:
    return bicep_documents[INFRA / "main.bicep"]["modules"][name]["config"]["params"]


def test_data_account_has_the_containers_and_queues_the_app_uses(bicep_documents):
    params = _module_params(bicep_documents, "dataStorage")
    defaults = Settings(None, None)
    assert sorted(params["containers"]) == sorted(defaults.containers)
    queues = [defaults.retrain_queue, defaults.monitor_queue]
    assert sorted(params["queues"]) == sorted(queues + [f"{name}-poison" for name in queues])
    assert params["allowSharedKeyAccess"] is False


def test_storage_module_is_https_tls12_private(bicep_documents):
    account = bicep_documents[INFRA / "app" / "storage.bicep"]["resources"]["account"]["config"]["properties"]
    assert account["supportsHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["networkAcls"]["defaultAction"] == "Deny"


def _app_settings(bicep_documents) -> dict[str, str]:
    variables = bicep_documents[INFRA / "app" / "function.bicep"]["variables"]
    return {item["name"]: item["value"] for item in variables["commonSettings"]["value"]}


def test_app_settings_configure_what_the_app_reads(bicep_documents):
    settings = _app_settings(bicep_documents)
    # Literal settings resolve, through the app's own settings code, to the containers of the data account.
    env = {name: value for name, value in settings.items() if isinstance(value, str)}
    env["AzureWebJobsStorage__accountName"] = "stdataexample"
    resolved = settings_from_env(env)
    assert resolved.storage_account_name == "stdataexample" and resolved.storage_connection_string is None
    assert resolved.containers == Settings(None, None).containers
    assert resolved.retrain_queue == "retrain-requests"
    assert "AzureWebJobsStorage" not in settings  # identity-based host storage, no connection string
    # Swap warm-up and the platform health check both ping the anonymous health endpoint.
    variables = bicep_documents[INFRA / "app" / "function.bicep"]["variables"]
    assert variables["healthPath"]["value"] == "/api/health"
    assert settings["WEBSITE_SWAP_WARMUP_PING_PATH"] == "healthPath"
    assert settings["WEBSITE_SWAP_WARMUP_PING_STATUSES"] == "200"
    assert settings["DRIFT_SCHEDULE"] == "driftSchedule"
    assert settings["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "false"


def _loop(variable: dict) -> tuple[str, object]:
    """(array looped over, item template) of a Bicep for-expression variable."""
    value = variable["value"]
    return value["loop_type"]["detail"]["array_name"], value["config"]


def test_staging_disables_every_trigger_function_with_sticky_settings(bicep_documents):
    document = bicep_documents[INFRA / "app" / "function.bicep"]
    assert {"ingest", "retrain", "monitor"} <= set(document["parameters"]["triggerFunctions"]["default"])
    variables = document["variables"]
    setting = "AzureWebJobs.${fn}.Disabled"
    assert _loop(variables["disabledInStaging"]) == ("triggerFunctions", {"name": setting, "value": "true"})
    assert _loop(variables["enabledInProduction"]) == ("triggerFunctions", {"name": setting, "value": "false"})
    assert _loop(variables["stickySettingNames"]) == ("triggerFunctions", setting)
    resources = document["resources"]
    sticky = resources["slotConfigNames"]["config"]
    assert (sticky["parent"], sticky["name"]) == ("site", "slotConfigNames")
    assert sticky["properties"]["appSettingNames"] == "stickySettingNames"
    slot = resources["stagingSlot"]
    assert slot["type"] == "Microsoft.Web/sites/slots"
    assert variables["stagingSlotName"]["value"] == "staging" and slot["config"]["name"] == "stagingSlotName"

    def settings_of(resource: dict) -> list[str]:
        concat = resource["config"]["properties"]["siteConfig"]["appSettings"]["function"]
        assert concat["type"] == "concat"
        return list(concat["parameters"].values())

    assert settings_of(slot) == ["commonSettings", "stagingContent", "disabledInStaging"]
    assert settings_of(resources["site"]) == ["commonSettings", "productionContent", "enabledInProduction"]


def test_content_share_differs_per_slot_and_is_not_sticky(bicep_documents):
    variables = bicep_documents[INFRA / "app" / "function.bicep"]["variables"]
    production = variables["productionContent"]["value"]
    staging = variables["stagingContent"]["value"]
    assert [s["name"] for s in production] == [s["name"] for s in staging] == ["WEBSITE_CONTENTSHARE"]
    assert production[0]["value"] != staging[0]["value"]
    assert "WEBSITE_CONTENTSHARE" not in _loop(variables["stickySettingNames"])[1]


def test_plan_is_linux_elastic_premium(bicep_documents):
    plan = bicep_documents[INFRA / "app" / "function.bicep"]["resources"]["plan"]["config"]
    assert plan["sku"]["tier"] == "ElasticPremium" and plan["properties"]["reserved"] is True
    main = bicep_documents[INFRA / "main.bicep"]["parameters"]["planSku"]
    assert main["default"] == "EP1"


def test_alerts_cover_drift_decay_and_failures(bicep_documents):
    monitoring = bicep_documents[INFRA / "app" / "monitoring.bicep"]
    events = {alert["event"] for alert in monitoring["variables"]["modelAlerts"]["value"]}
    assert events == {"DriftDetected", "ModelDecayDetected"}
    assert "requests | where success == false" in str(monitoring["resources"]["functionFailureAlert"])
    assert monitoring["resources"]["actionGroup"]["type"] == "Microsoft.Insights/actionGroups"


def test_machine_learning_workspace_is_optional(bicep_documents):
    main = bicep_documents[INFRA / "main.bicep"]
    assert main["parameters"]["enableMachineLearning"]["default"] is False
    text = (INFRA / "main.bicep").read_text()
    assert "module machineLearning 'app/ml.bicep' = if (enableMachineLearning)" in text


def test_outputs_the_pipeline_reads_exist(bicep_documents):
    pipeline = (Path(INFRA.parent) / "azure-pipelines.yml").read_text()
    outputs = bicep_documents[INFRA / "main.bicep"]["outputs"]
    for name in re.findall(r'"(AZURE_[A-Z_]+)"\)', pipeline):
        assert name in outputs, f"azure-pipelines.yml reads output {name}, which main.bicep lacks"
