"""Queue trigger: a retrain request is processed."""

import json

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("retrain")
@bp.queue_trigger(arg_name="msg", queue_name="%RETRAIN_QUEUE%", connection="AzureWebJobsStorage")
def retrain(msg: func.QueueMessage) -> None:
    from shared.retrain import handle_request

    handle_request(json.loads(msg.get_body()), correlation_id=msg.id)
