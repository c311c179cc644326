"""HTTP triggers: one function per endpoint declared in `shared.api.ENDPOINTS`, nothing declared twice."""

import azure.functions as func

from shared.api import ENDPOINTS, respond

bp = func.Blueprint()
AUTH_LEVELS = {
    "anonymous": func.AuthLevel.ANONYMOUS,
    "function": func.AuthLevel.FUNCTION,
    "admin": func.AuthLevel.ADMIN,
}


def _call(name: str, req: func.HttpRequest) -> func.HttpResponse:
    result = respond(name, req.params, route_params=req.route_params)
    return func.HttpResponse(
        body=result.body, status_code=result.status, mimetype=result.content_type, headers=result.headers
    )


def _trigger(name: str):
    def handle(req: func.HttpRequest) -> func.HttpResponse:
        return _call(name, req)

    handle.__name__ = handle.__qualname__ = name
    return handle


for _endpoint in ENDPOINTS.values():
    _route = bp.route(route=_endpoint.route, methods=list(_endpoint.methods), auth_level=AUTH_LEVELS[_endpoint.auth])
    bp.function_name(_endpoint.name)(_route(_trigger(_endpoint.name)))
