"""The Azure Functions app: builds the app and registers the trigger blueprints of `functions/`."""

import azure.functions as func

from functions import api, fleet, ingest, monitor, monitor_check, registry_sync, retrain

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (ingest.bp, retrain.bp, monitor.bp, monitor_check.bp, registry_sync.bp, fleet.bp, api.bp):
    app.register_functions(blueprint)
