"""The real registry-sync blueprint alone, for the runner with this folder's fast-retry host.json."""

import azure.functions as func

from functions import registry_sync

app = func.FunctionApp()
app.register_functions(registry_sync.bp)
