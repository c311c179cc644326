"""Queue trigger: one champion change from the registry outbox is registered in the Azure ML workspace."""

import json

import azure.functions as func

bp = func.Blueprint()


# A failure raises, so the host retries the message and, after maxDequeueCount, keeps it in the -poison queue.
@bp.function_name("registry-sync")
@bp.queue_trigger(arg_name="msg", queue_name="%REGISTRY_OUTBOX_QUEUE%", connection="AzureWebJobsStorage")
def registry_sync(msg: func.QueueMessage) -> None:
    from shared.azureml.mirror import handle_message

    handle_message(json.loads(msg.get_body()))
