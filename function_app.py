"""The Azure Functions app: builds the app and registers the trigger blueprints of `functions/`."""

import azure.functions as func

from functions import api, ingest, monitor, monitor_check, retrain

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (ingest.bp, retrain.bp, monitor.bp, monitor_check.bp, api.bp):
    app.register_functions(blueprint)
