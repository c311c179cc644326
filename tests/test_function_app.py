"""Every function of function_app.py, found by introspection, has the trigger and binding it must have."""

from pathlib import Path

import azure.functions as func
import pytest

from shared.api import ENDPOINTS

TRIGGERS = {
    "ingest": ("blobTrigger", {"path": "%INCOMING_CONTAINER%/{name}", "connection": "AzureWebJobsStorage"}),
    "monitor": ("timerTrigger", {"schedule": "%DRIFT_SCHEDULE%", "runOnStartup": False}),
    "fleet_summary": ("timerTrigger", {"schedule": "0 */5 * * * *", "runOnStartup": False}),
    "retrain": ("queueTrigger", {"queueName": "%RETRAIN_QUEUE%", "connection": "AzureWebJobsStorage"}),
    "monitor_check": ("queueTrigger", {"queueName": "%MONITOR_QUEUE%", "connection": "AzureWebJobsStorage"}),
    "registry-sync": ("queueTrigger", {"queueName": "%REGISTRY_OUTBOX_QUEUE%", "connection": "AzureWebJobsStorage"}),
}
# HTTP functions come from the one declaration of the endpoints (shared.api.ENDPOINTS).
EXPECTED = TRIGGERS | {
    e.name: (
        "httpTrigger",
        {"route": e.route, "authLevel": func.AuthLevel(e.auth), "methods": [func.HttpMethod(m) for m in e.methods]},
    )
    for e in ENDPOINTS.values()
}


@pytest.fixture(scope="module")
def functions():
    import function_app
    from localrun.loading import functions_of  # get_functions() works once per app: use the cached list

    assert isinstance(function_app.app, func.FunctionRegister)
    return {fn.get_function_name(): fn for fn in functions_of(function_app.app)}


def test_exactly_the_expected_functions(functions):
    assert sorted(functions) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_trigger_and_binding(functions, name):
    trigger_type, attributes = EXPECTED[name]
    trigger = functions[name].get_trigger()
    assert trigger.get_binding_name() == trigger_type
    binding = trigger.get_dict_repr()
    for key, value in attributes.items():
        assert binding[key] == value, f"{name}.{key}"


def test_every_declared_endpoint_is_served_by_the_runner_at_its_route():
    """The runner's route table, built from the app's own metadata, resolves each declared route."""
    import function_app
    from localrun.functions import build_spec
    from localrun.http_frontend import build_routes
    from localrun.loading import functions_of

    http = [fn for fn in functions_of(function_app.app) if fn.get_trigger().get_binding_name() == "httpTrigger"]
    routes = build_routes([build_spec(fn, {}) for fn in http], "api")
    for endpoint in ENDPOINTS.values():
        path = "/api/" + endpoint.route.replace("{series}", "some-series")
        route, params = routes.resolve(path, endpoint.methods[0])
        assert route.function == endpoint.name, path
        assert params == ({"series": "some-series"} if "{series}" in endpoint.route else {}), path


def test_ingest_uses_event_grid_unless_configured(monkeypatch):
    import importlib

    import functions.ingest as ingest

    assert ingest._SOURCE == func.BlobSource.EVENT_GRID
    monkeypatch.setenv("INGEST_TRIGGER_SOURCE", "LogsAndContainerScan")
    assert importlib.reload(ingest)._SOURCE == func.BlobSource.LOGS_AND_CONTAINER_SCAN
    monkeypatch.delenv("INGEST_TRIGGER_SOURCE")
    importlib.reload(ingest)


def heavy_modules_after(statement: str) -> str:
    """The heavy libraries a fresh interpreter has loaded after running `statement` in the repo."""
    import subprocess
    import sys

    code = (
        f"import sys\n{statement}\n"
        "heavy = [m for m in ('pandas', 'statsmodels', 'azure.ai.ml', 'scipy', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo)
    return out.stdout.strip()


def test_importing_the_app_loads_no_heavy_library():
    assert heavy_modules_after("import function_app") == ""


@pytest.mark.slow
def test_the_drift_endpoint_reads_reports_without_heavy_libraries():
    assert heavy_modules_after("import shared.api, shared.monitoring.store") == ""
