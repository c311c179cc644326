"""HTTP triggers: each route hands its query to the matching endpoint of `shared.api`."""

import azure.functions as func

bp = func.Blueprint()


def _call(name: str, req: func.HttpRequest) -> func.HttpResponse:
    from shared.api import respond

    result = respond(name, req.params)
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


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return _call("health", req)
