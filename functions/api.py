"""HTTP triggers: each route hands its request to the matching endpoint of `shared.api`."""

import azure.functions as func

bp = func.Blueprint()


def _call(name: str, req: func.HttpRequest) -> func.HttpResponse:
    from shared.api import respond

    result = respond(name, req.params, route_params=req.route_params)
    return func.HttpResponse(
        body=result.body, status_code=result.status, mimetype=result.content_type, headers=result.headers
    )


@bp.function_name("forecast")
@bp.route(route="forecast", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def forecast(req: func.HttpRequest) -> func.HttpResponse:
    return _call("forecast", req)


@bp.function_name("models")
@bp.route(route="models", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def models(req: func.HttpRequest) -> func.HttpResponse:
    return _call("models", req)


@bp.function_name("drift")
@bp.route(route="drift", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def drift(req: func.HttpRequest) -> func.HttpResponse:
    return _call("drift", req)


@bp.function_name("promote")
@bp.route(route="models/{series}/promote", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
def promote(req: func.HttpRequest) -> func.HttpResponse:
    return _call("promote", req)


@bp.function_name("rollback")
@bp.route(route="models/{series}/rollback", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
def rollback(req: func.HttpRequest) -> func.HttpResponse:
    return _call("rollback", req)


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return _call("health", req)


@bp.function_name("dashboard")
@bp.route(route="dashboard", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def dashboard(req: func.HttpRequest) -> func.HttpResponse:
    return _call("dashboard", req)


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return _call("openapi", req)
