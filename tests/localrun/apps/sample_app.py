"""Test app for the local runner: blob, queue and timer triggers with outputs, in a blueprint and on the app."""

import json
import threading
import time

import azure.functions as func

# Attempts seen per message tag (dequeue counts), for the retry tests that run this app in-process.
ATTEMPTS: dict[str, list[int]] = {}
_attempts_lock = threading.Lock()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
bp = func.Blueprint()


@bp.blob_trigger(arg_name="blob", path="%SAMPLE_IN_CONTAINER%/{name}", connection="AzureWebJobsStorage")
@bp.blob_output(arg_name="report", path="%SAMPLE_OUT_CONTAINER%/{name}.json", connection="AzureWebJobsStorage")
def on_blob(blob: func.InputStream, report: func.Out[str]) -> None:
    """Reports each blob; content `fail` raises, `sleep:<seconds>` sleeps first."""
    started = time.time()
    data = blob.read()
    if data.startswith(b"fail"):
        raise ValueError(f"{blob.name} asked to fail")
    if data.startswith(b"sleep:"):
        time.sleep(float(data[len(b"sleep:") :]))
    document = {
        "name": blob.name,
        "length": blob.length,
        "uri": blob.uri,
        "metadata": blob.metadata,
        "content": data.decode(),
        "started": started,
        "ended": time.time(),
        "thread": threading.current_thread().name,
    }
    report.set(json.dumps(document))


@bp.queue_trigger(arg_name="msg", queue_name="%SAMPLE_QUEUE%", connection="AzureWebJobsStorage")
@bp.queue_output(arg_name="out", queue_name="%SAMPLE_OUT_QUEUE%", connection="AzureWebJobsStorage")
def on_message(msg: func.QueueMessage, out: func.Out[str]) -> None:
    """Echoes a JSON message with its dequeue count; fails while dequeue_count < fail_until."""
    body = json.loads(msg.get_body())
    with _attempts_lock:
        ATTEMPTS.setdefault(body.get("tag", ""), []).append(msg.dequeue_count)
    if msg.dequeue_count < body.get("fail_until", 0):
        raise RuntimeError(f"attempt {msg.dequeue_count} fails on purpose")
    out.set(json.dumps({"id": msg.id, "body": body, "dequeue_count": msg.dequeue_count}))


@bp.queue_trigger(arg_name="msg", queue_name="%SAMPLE_RETURN_QUEUE%", connection="AzureWebJobsStorage")
@bp.queue_output(arg_name="$return", queue_name="%SAMPLE_OUT_QUEUE%", connection="AzureWebJobsStorage")
def shout(msg: func.QueueMessage) -> str:
    """Returns its output: the `$return` binding."""
    return msg.get_body().decode().upper()


@app.timer_trigger(arg_name="timer", schedule="%SAMPLE_SCHEDULE%", run_on_startup=False)
@app.queue_output(arg_name="out", queue_name="%SAMPLE_TIMER_QUEUE%", connection="AzureWebJobsStorage")
def tick(timer: func.TimerRequest, out: func.Out[str]) -> None:
    out.set(json.dumps({"past_due": timer.past_due, "status": timer.schedule_status, "at": time.time()}))


@app.timer_trigger(arg_name="timer", schedule="*/1 * * * * *", run_on_startup=True)
@app.queue_output(arg_name="out", queue_name="%SAMPLE_TIMER_QUEUE%", connection="AzureWebJobsStorage")
def slow_tick(timer: func.TimerRequest, out: func.Out[str]) -> None:
    """Runs at startup and every second; each on-time run takes long enough to make the next one late."""
    if not timer.past_due:
        time.sleep(2.2)
    out.set(json.dumps({"past_due": timer.past_due, "status": timer.schedule_status, "at": time.time()}))


@app.route(route="health", methods=["GET"])
def health(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({"status": "ok"}), mimetype="application/json")


app.register_functions(bp)
