"""Test app for worker processes: each function reports the process it ran in; messages ask to sleep, fail or exit."""

import json
import os
import time
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _mark(path: str | None) -> None:
    """Tell the test that the invocation has started (a file it waits for)."""
    if path:
        Path(path).write_text(str(os.getpid()))


@app.queue_trigger(arg_name="msg", queue_name="%WORK_QUEUE%", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="out", queue_name="%WORK_OUT_QUEUE%", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage, out: func.Out[str], context: func.Context) -> None:
    """Sleeps `sleep` seconds; `exit_first` kills its process on the first attempt; reports pid and times."""
    body = json.loads(msg.get_body())
    started = time.time()
    _mark(body.get("started"))
    if body.get("exit_first") and msg.dequeue_count == 1:
        os._exit(3)
    time.sleep(body.get("sleep", 0))
    report = {
        "tag": body.get("tag"),
        "pid": os.getpid(),
        "started": started,
        "ended": time.time(),
        "dequeue_count": msg.dequeue_count,
        "retry_count": context.retry_context.retry_count,
        "function": context.function_name,
    }
    out.set(json.dumps(report))


@app.timer_trigger(arg_name="timer", schedule="%WORK_SCHEDULE%", run_on_startup=False)
def broken_tick(timer: func.TimerRequest) -> None:
    raise ValueError(f"tick in process {os.getpid()} fails on purpose")


@app.route(route="pid", methods=["GET"])
def pid(req: func.HttpRequest) -> func.HttpResponse:
    """The serving process id; `sleep` seconds first, after touching `started`."""
    _mark(req.params.get("started"))
    time.sleep(float(req.params.get("sleep", "0")))
    return func.HttpResponse(json.dumps({"pid": os.getpid()}), mimetype="application/json")
