"""Test app for the local runner: a blob input binding, which the runner must refuse at start."""

import azure.functions as func

app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name="orders", connection="AzureWebJobsStorage")
@app.blob_input(arg_name="config", path="config/settings.json", connection="AzureWebJobsStorage")
def with_input(msg: func.QueueMessage, config: func.InputStream) -> None:
    raise AssertionError("never called: the runner refuses input bindings")
