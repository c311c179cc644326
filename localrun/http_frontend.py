"""HTTP functions behind the route table: a request in, func.HttpRequest to the function, a response out."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func

from localrun.functions import FunctionSpec
from localrun.invoke import Invoker
from localrun.routes import MethodNotAllowed, NotFound, Route, RouteTable

log = logging.getLogger("localrun.http")

Response = tuple[int, list[tuple[str, str]], bytes]
HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
HTTP_REASON = "This function was programmatically called via the host APIs."
JSON_TYPE = ("Content-Type", "application/json; charset=utf-8")


def _methods(spec: FunctionSpec) -> list[str] | None:
    methods = spec.trigger.methods
    return [str(getattr(m, "value", m)) for m in methods] if methods else None


def build_routes(specs: Iterable[FunctionSpec], prefix: str) -> RouteTable:
    """The route table of every HTTP function; a function without a route is served at its name."""
    return RouteTable(Route.compile(s.name, s.trigger.route or s.name, prefix, _methods(s)) for s in specs)


def to_response(result: Any) -> Response:
    """Status, headers and body of what an HTTP function returned, as the worker converts it."""
    if isinstance(result, func.HttpResponse):
        headers = [(k, v) for k, v in result.headers.items() if k.lower() not in HOP_BY_HOP]
        if not any(k.lower() == "content-type" for k, _ in headers):
            mimetype = result.mimetype
            content_type = f"{mimetype}; charset={result.charset}" if mimetype.startswith("text/") else mimetype
            headers.append(("Content-Type", content_type))
        return result.status_code, headers, result.get_body() or b""
    if isinstance(result, str):
        return 200, [("Content-Type", "text/plain; charset=utf-8")], result.encode("utf-8")
    if result is None:
        return 204, [], b""
    raise TypeError(f"an HTTP function must return func.HttpResponse, str or None, not {type(result).__name__}")


class HttpFrontend:
    """Resolves requests to HTTP functions and serves the admin endpoints of the host."""

    def __init__(
        self,
        specs: Iterable[FunctionSpec],
        prefix: str,
        invoker: Invoker,
        admin_invoke: Callable[[str], int],
        host_id: str,
    ) -> None:
        self.specs = {s.name: s for s in specs}
        self.routes = build_routes(self.specs.values(), prefix)
        self._invoker = invoker
        self._admin_invoke = admin_invoke
        self._host_id = host_id

    async def respond(
        self, method: str, target: str, header_items: Iterable[tuple[str, str]], body: bytes, default_host: str
    ) -> Response:
        """Status, headers and body for one request; runs on the event loop."""
        path, _, query = target.partition("?")
        if path.startswith("/admin/"):
            return self._admin(method, path)
        try:
            route, route_params = self.routes.resolve(path, method)
        except NotFound:
            return 404, [], b""
        except MethodNotAllowed as exc:
            return 405, [("Allow", ", ".join(exc.allow))], b""
        headers: dict[str, str] = {}
        for key, value in header_items:
            lower = key.lower()
            headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
        params: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        url = f"http://{headers.get('host', default_host)}{target}"
        request = func.HttpRequest(method, url, headers=headers, params=params, route_params=route_params, body=body)
        spec = self.specs[route.function]
        try:
            result = await self._invoker.invoke_async(spec, request, {**params, **route_params}, HTTP_REASON)
        except Exception:  # the invoker has logged it with its traceback
            return 500, [], b""
        try:
            return to_response(result)
        except TypeError:
            log.exception("function '%s' returned a value the HTTP output cannot send", spec.name)
            return 500, [], b""

    def _admin(self, method: str, path: str) -> Response:
        if path == "/admin/host/status" and method == "GET":
            body = json.dumps({"id": self._host_id, "state": "Running"}).encode()
            return 200, [JSON_TYPE], body
        prefix = "/admin/functions/"
        if path.startswith(prefix) and method == "POST":
            return self._admin_invoke(path[len(prefix) :].strip("/")), [], b""
        return 404, [], b""
