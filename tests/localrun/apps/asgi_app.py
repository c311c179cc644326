"""Test app for the local runner: a plain ASGI application served through func.AsgiFunctionApp."""

import json

import azure.functions as func

STATE = {"started": 0}


async def asgi(scope, receive, send):
    """Answers every path with its own path and method; counts lifespan startups."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                STATE["started"] += 1
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    payload = {"path": scope["path"], "method": scope["method"], "body": body.decode(), "started": STATE["started"]}
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


app = func.AsgiFunctionApp(app=asgi, http_auth_level=func.AuthLevel.ANONYMOUS)
