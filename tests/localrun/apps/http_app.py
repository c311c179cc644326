"""HTTP-only test app for the local runner: routes with parameters, methods, async, headers and bodies."""

import asyncio
import json
import os
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


def _json(value: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json")


@app.route(route="hello", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"hello {req.params.get('name', 'world')}")


@app.route(route="items/{id:int}/{rest?}", methods=["GET", "POST"])
def items(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"route": dict(req.route_params), "params": dict(req.params), "method": req.method})


@app.route(route="items/new", methods=["GET"])
def new_item(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"literal": True})


@app.route(route="files/{*path}", methods=["GET"])
def files(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"path": req.route_params.get("path")})


@app.route(route="echo", methods=["POST", "PUT"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    headers = {"X-Echo-Length": str(len(req.get_body()))}
    headers["X-Seen-Header"] = req.headers.get("x-test", "")
    return func.HttpResponse(req.get_body(), status_code=201, headers=headers, mimetype="application/octet-stream")


@app.route(route="async/{name}", methods=["GET"])
async def async_hello(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    await asyncio.sleep(0.01)
    return _json({"name": req.route_params["name"], "function": context.function_name, "url": req.url})


@app.route(route="text")
def text(req: func.HttpRequest) -> str:
    return "plain text"


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom on purpose")


@app.function_name("ping")
@app.route(route="ping", auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(b"pong")


@app.route(route="sleep", methods=["GET"])
def sleep(req: func.HttpRequest) -> func.HttpResponse:
    time.sleep(float(req.params.get("s", "0.5")))
    return func.HttpResponse(b"slept")


@app.route(route="hold", methods=["GET"])
def hold(req: func.HttpRequest) -> func.HttpResponse:
    """Creates the file `started`, then blocks (synchronously) until the file `until` exists, at most 10 s."""
    with open(req.params["started"], "w"):
        pass
    end = time.monotonic() + 10
    while not os.path.exists(req.params["until"]) and time.monotonic() < end:
        time.sleep(0.01)
    return func.HttpResponse(b"released" if os.path.exists(req.params["until"]) else b"timed out")
