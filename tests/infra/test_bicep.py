"""infra/: every Bicep file parses, checkov passes with written reasons, and the template matches the app."""

from __future__ import annotations

import json
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
    assert sorted(params["queues"]) == sorted(defaults.queues + tuple(f"{name}-poison" for name in defaults.queues))
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
    # The registry mirror and the bulk job find the workspace from these.
    assert settings["AZURE_ML_WORKSPACE_NAME"] == "machineLearningWorkspaceName"
    subscription = settings["AZURE_ML_SUBSCRIPTION_ID"]["function"]
    group = settings["AZURE_ML_RESOURCE_GROUP"]["function"]
    assert (subscription["type"], subscription["property_name"]) == ("subscription", "subscriptionId")
    assert (group["type"], group["property_name"]) == ("resource_group", "name")


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


# --- Second release: content shares, scale monitoring, run from package ------------------------------


def _conditional(value: dict) -> dict:
    return value["operator"]["operands"]


def _dotted(expression: str | dict) -> str:
    """`a.b.c` of a pycep property-accessor chain."""
    if isinstance(expression, str):
        return expression
    operator = expression["operator"]
    assert operator["type"] == "property_accessor", operator
    return f"{_dotted(operator['operands']['operand_1'])}.{_dotted(operator['operands']['operand_2'])}"


def test_content_shares_are_kept_on_updates_and_named_only_the_first_time(bicep_documents):
    """Infra never writes the first deployment's share names over the ones a swap exchanged."""
    function = bicep_documents[INFRA / "app" / "function.bicep"]
    for variable, parameter in (
        ("productionContent", "productionContentShare"),
        ("stagingContent", "stagingContentShare"),
    ):
        (setting,) = function["variables"][variable]["value"]
        assert setting["name"] == "WEBSITE_CONTENTSHARE"
        chosen = _conditional(setting["value"])
        assert chosen["condition"] == {"function": {"type": "empty", "parameters": {"item_to_test": parameter}}}
        assert chosen["false_value"] == parameter  # the current value, once there is one
        assert function["parameters"][parameter]["default"] == ""
    # The first-deployment names are the two shares the content account holds.
    production = _conditional(function["variables"]["productionContent"]["value"][0]["value"])["true_value"]
    staging = _conditional(function["variables"]["stagingContent"]["value"][0]["value"])["true_value"]
    assert (production, staging) == ("name", "${name}-${stagingSlotName}")
    shares = _module_params(bicep_documents, "contentStorage")["fileShares"]
    assert shares == ["functionAppName", "${functionAppName}-staging"]
    # main.bicep passes the current values through, and the parameters file fills them from the
    # variables that scripts/content_shares.py exports (empty when nothing is deployed yet).
    params = _module_params(bicep_documents, "functionApp")
    assert params["productionContentShare"] == "productionContentShare"
    assert params["stagingContentShare"] == "stagingContentShare"
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["productionContentShare"]["value"] == "${PRODUCTION_CONTENT_SHARE=}"
    assert parameters["stagingContentShare"]["value"] == "${STAGING_CONTENT_SHARE=}"


def test_runtime_scale_monitoring_in_both_slots(bicep_documents):
    resources = bicep_documents[INFRA / "app" / "function.bicep"]["resources"]
    for name in ("site", "stagingSlot"):
        site_config = resources[name]["config"]["properties"]["siteConfig"]
        assert site_config["functionsRuntimeScaleMonitoringEnabled"] is True, name
        assert site_config["minimumElasticInstanceCount"] == "minimumElasticInstanceCount"


# --- Least privilege -----------------------------------------------------------------------------------


def _role_ids(rbac: dict) -> dict[str, str]:
    return rbac["variables"]["roles"]["value"]


def test_app_identity_holds_data_roles_only(bicep_documents):
    rbac = bicep_documents[INFRA / "app" / "rbac.bicep"]
    roles = _role_ids(rbac)
    granted = [
        item["id"]["operator"]["operands"]["operand_2"] for item in rbac["variables"]["appStorageRoles"]["value"]
    ]
    assert granted == ["storageBlobDataOwner", "storageQueueDataContributor", "storageTableDataContributor"]
    assert roles["storageTableDataContributor"] == "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
    # Storage Account Contributor (which can turn shared keys back on) is granted to nobody.
    text = "\n".join(path.read_text() for path in bicep_files())
    assert "17d1049b-9a84-46fb-8f53-869881c3d3ab" not in text
    assert "storageAccountContributor" not in text
    # Every role assignment in infra/ lives in rbac.bicep.
    for path, document in bicep_documents.items():
        if path.name != "rbac.bicep":
            types = {r["type"] for r in document.get("resources", {}).values()}
            assert "Microsoft.Authorization/roleAssignments" not in types, path


def _assignment(rbac: dict, name: str) -> tuple[str, str, str]:
    """(loop array, scope, role key) of a role assignment resource in rbac.bicep."""
    resource = rbac["resources"][name]["config"]
    body = resource["config"]
    role = body["properties"]["roleDefinitionId"]["function"]["parameters"]
    role_key = next(v for v in role.values() if isinstance(v, dict))["operator"]["operands"]["operand_2"]
    return resource["loop_type"]["detail"]["array_name"], body["scope"], role_key


def test_machine_learning_identities_read_curated_and_write_models_only(bicep_documents):
    rbac = bicep_documents[INFRA / "app" / "rbac.bicep"]
    assert _assignment(rbac, "machineLearningCurated") == (
        "machineLearningPrincipals",
        "curatedContainer",
        "storageBlobDataReader",
    )
    assert _assignment(rbac, "machineLearningModels") == (
        "machineLearningPrincipals",
        "modelsContainer",
        "storageBlobDataContributor",
    )
    resources = rbac["resources"]
    assert (
        resources["curatedContainer"]["config"]["name"] == "${dataStorageAccountName}/default/${curatedContainerName}"
    )
    assert resources["modelsContainer"]["config"]["name"] == "${dataStorageAccountName}/default/${modelsContainerName}"
    assert rbac["parameters"]["curatedContainerName"]["default"] == Settings(None, None).curated_container
    assert rbac["parameters"]["modelsContainerName"]["default"] == Settings(None, None).models_container
    # The app may register models and submit jobs: AzureML Data Scientist on the workspace.
    app_ml = resources["appMachineLearning"]["config"]["config"]
    assert app_ml["scope"] == "machineLearningWorkspace"
    assert "azureMlDataScientist" in json.dumps(app_ml["properties"]["roleDefinitionId"])
    # main.bicep hands over the workspace's and the cluster's identities.
    principals = _conditional(_module_params(bicep_documents, "rbac")["machineLearningPrincipalIds"])
    assert principals["condition"] == "enableMachineLearning" and principals["false_value"] == []
    assert [_dotted(p) for p in principals["true_value"]] == [
        "machineLearning.outputs.workspacePrincipalId",
        "machineLearning.outputs.computePrincipalId",
    ]


def test_ml_compute_cluster_scales_to_zero_without_local_auth(bicep_documents):
    ml = bicep_documents[INFRA / "app" / "ml.bicep"]
    cluster = ml["resources"]["computeCluster"]
    assert cluster["type"] == "Microsoft.MachineLearningServices/workspaces/computes"
    config = cluster["config"]
    assert config["parent"] == "workspace" and config["identity"]["type"] == "SystemAssigned"
    properties = config["properties"]
    assert properties["computeType"] == "AmlCompute" and properties["disableLocalAuth"] is True
    assert properties["properties"]["scaleSettings"]["minNodeCount"] == 0
    assert properties["properties"]["enableNodePublicIp"] is False
    assert properties["properties"]["remoteLoginPortPublicAccess"] == "Disabled"


def test_ml_workspace_is_private_by_default(bicep_documents):
    ml = bicep_documents[INFRA / "app" / "ml.bicep"]
    assert ml["parameters"]["publicNetworkAccess"]["default"] == "Disabled"
    main = bicep_documents[INFRA / "main.bicep"]
    assert main["parameters"]["machineLearningPublicNetworkAccess"]["default"] == "Disabled"
    workspace = ml["resources"]["workspace"]["config"]["properties"]
    assert workspace["publicNetworkAccess"] == "publicNetworkAccess"
    # Private: reached through a private endpoint in the app's VNet, with its DNS zones linked.
    for name in ("privateEndpoint", "privateDnsZones", "privateDnsLinks", "privateDnsZoneGroup"):
        assert ml["resources"][name]["config"]["condition"] == "privateWorkspace", name
    endpoint = ml["resources"]["privateEndpoint"]["config"]["config"]["properties"]
    assert endpoint["privateLinkServiceConnections"][0]["properties"]["groupIds"] == ["amlworkspace"]
    # Jobs reach the firewalled data account through a managed private endpoint to its blob service.
    rule = workspace["managedNetwork"]["outboundRules"]["'forecastops-data-blob'"]
    assert rule["type"] == "PrivateEndpoint" and rule["destination"]["subresourceTarget"] == "blob"
    assert rule["destination"]["serviceResourceId"] == "dataStorageAccountId"


def test_key_vault_purge_and_network_settings_agree_with_the_docs(bicep_documents):
    ml = bicep_documents[INFRA / "app" / "ml.bicep"]
    vault = ml["resources"]["keyVault"]["config"]["properties"]
    # Public access stays on behind a deny-by-default firewall that admits trusted Azure services:
    # with it disabled and no private endpoint, the workspace could not reach its vault.
    assert vault["publicNetworkAccess"] == "Enabled"
    assert vault["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    purge = _conditional(vault["enablePurgeProtection"])
    assert purge == {"condition": "keyVaultPurgeProtection", "true_value": True, "false_value": None}
    assert ml["parameters"]["keyVaultPurgeProtection"]["default"] is True
    docs = (INFRA.parent / "docs" / "deploy.md").read_text()
    assert "AZURE_ML_KEY_VAULT_PURGE_PROTECTION" in docs
    assert "(the purge also frees the key vault name of the optional\nworkspace)" not in docs


# --- Models container: version-level WORM that the champion pointer can live with ---------------------


def test_models_container_keeps_every_version_immutable(bicep_documents):
    params = _module_params(bicep_documents, "dataStorage")
    assert params["versionImmutableContainers"] == [Settings(None, None).models_container]
    assert params["immutabilityDays"] == "modelRetentionDays"
    assert bicep_documents[INFRA / "main.bicep"]["parameters"]["modelRetentionDays"]["default"] >= 1
    storage = bicep_documents[INFRA / "app" / "storage.bicep"]
    resources = storage["resources"]
    # Blob versioning on (version-level immutability needs it), so an overwrite of champion.json
    # makes a new version and keeps the old one read-only instead of failing.
    versioning = resources["blobService"]["config"]["properties"]["isVersioningEnabled"]
    assert "versionImmutableContainers" in json.dumps(versioning)
    container = resources["blobContainers"]["config"]["config"]["properties"]["immutableStorageWithVersioning"]
    chosen = _conditional(container)
    assert chosen["true_value"] == {"enabled": True} and chosen["false_value"] is None
    assert "versionImmutableContainers" in json.dumps(chosen["condition"])
    policy = resources["immutabilityPolicies"]
    assert policy["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies"
    assert policy["config"]["loop_type"]["detail"]["array_name"] == "versionImmutableContainers"
    assert policy["config"]["config"]["properties"] == {
        "immutabilityPeriodSinceCreationInDays": "immutabilityDays",
        "allowProtectedAppendWrites": False,
    }
    # Previous versions are expired, but never before the immutability retention ends.
    lifecycle = resources["versionLifecycle"]
    assert lifecycle["type"] == "Microsoft.Storage/storageAccounts/managementPolicies"
    assert "versionImmutableContainers" in json.dumps(lifecycle["config"]["condition"])
    (rule,) = lifecycle["config"]["config"]["properties"]["policy"]["rules"]
    assert rule["definition"]["actions"] == {
        "version": {"delete": {"daysAfterCreationGreaterThan": "immutabilityDays"}}
    }
    # The other data containers stay mutable: ingest empties sales-incoming after archiving.
    assert Settings(None, None).incoming_container not in params["versionImmutableContainers"]


def test_role_assignments_the_pipeline_waits_for_are_an_output(bicep_documents):
    rbac = bicep_documents[INFRA / "app" / "rbac.bicep"]
    output = rbac["outputs"]["appAssignments"]
    assert output["type"] == "array"
    assert set(output["value"]["config"]) == {"principalId", "roleDefinitionId", "role", "scope"}
    main = bicep_documents[INFRA / "main.bicep"]["outputs"]
    assert _dotted(main["AZURE_APP_ROLE_ASSIGNMENTS"]["value"]) == "rbac.outputs.appAssignments"
