"""Queue trigger: a retrain request is processed (one that can never succeed goes to poison at once)."""

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("retrain")
@bp.queue_trigger(arg_name="msg", queue_name="%RETRAIN_QUEUE%", connection="AzureWebJobsStorage")
def retrain(msg: func.QueueMessage) -> None:
    from shared.retrain import handle_message

    handle_message(msg.get_body(), message_id=msg.id, dequeue_count=msg.dequeue_count)
