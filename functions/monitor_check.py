"""Queue trigger: one monitor check request (a batch of series of one run) is checked."""

import json

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("monitor_check")
@bp.queue_trigger(arg_name="msg", queue_name="%MONITOR_QUEUE%", connection="AzureWebJobsStorage")
def monitor_check(msg: func.QueueMessage) -> None:
    from shared.monitoring.fanout import handle_request

    handle_request(json.loads(msg.get_body()))
