"""HTTP API: declared endpoints, parameter parsing, handlers and the error mapping (the API edge)."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import shared
from shared.errors import BadParameter, ConcurrencyConflict, NoModelYet, SeriesNotFound, VersionNotFound

log = logging.getLogger(__name__)

SERIES_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@dataclass(frozen=True)
class Param:
    """One query parameter: parsing, validation and its OpenAPI description come from here."""

    name: str
    kind: type
    description: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    location: str = "query"  # or "path"
    required: bool = False

    def parse(self, raw: str | None) -> Any:
        if raw is None:
            return self.default
        try:
            value = self.kind(raw)
        except ValueError:
            raise BadParameter(self.name, f"must be {self._expected()}, got {raw!r}") from None
        if self.kind is float and value != value:
            raise BadParameter(self.name, f"must be {self._expected()}, got {raw!r}")
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise BadParameter(self.name, f"must be {self._expected()}, got {raw!r}")
        if self.pattern is not None:
            import re

            if not re.match(self.pattern, value):
                raise BadParameter(self.name, f"must match {self.pattern}, got {raw!r}")
        return value

    def _expected(self) -> str:
        noun = {int: "an integer", float: "a number", str: "a string"}[self.kind]
        if self.minimum is not None and self.maximum is not None:
            return f"{noun} from {self.minimum:g} to {self.maximum:g}"
        return noun


@dataclass
class ApiResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers (e.g. an undefined metric) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def json_response(document: Any, status: int = 200) -> ApiResponse:
    return ApiResponse(status, json.dumps(_finite(document), default=str, allow_nan=False).encode())


def error_response(status: int, error: str, detail: str) -> ApiResponse:
    return json_response({"error": error, "detail": detail}, status)


class Service:
    """State shared by the handlers of one process: settings and the champion cache."""

    def __init__(self, settings=None) -> None:
        from shared.serving import ChampionCache

        self.cache = ChampionCache(settings)

    @property
    def settings(self):
        return self.cache.settings

    def container(self, name: str):
        from shared.storage import container

        return container(name, self.settings)


@lru_cache(maxsize=1)
def default_service() -> Service:
    return Service()


SERIES = Param("series", str, "Series identifier", default="total", pattern=SERIES_PATTERN)
SERIES_IN_PATH = dataclasses.replace(SERIES, default=None, location="path")
HORIZON = Param("horizon", int, "Number of periods ahead", default=28, minimum=1, maximum=90)
VERSION = Param("version", str, "Version to promote", required=True, pattern=r"^v[0-9A-Za-z.\-]+$")
REASON = Param("reason", str, "Reason recorded in the champion history", default="manual change via the API")


def forecast(args: dict, service: Service) -> ApiResponse:
    from shared.serving import build_forecast

    champion = service.cache.get(args["series"])
    return json_response(build_forecast(champion, args["horizon"], args["level"]))


def health(args: dict, service: Service) -> ApiResponse:
    from shared.registry import list_series, read_champion
    from shared.storage import probe

    try:
        probe(service.settings)
        models = service.container(service.settings.models_container)
        champions = {}
        for series in list_series(models):
            pointer, _ = read_champion(models, series)
            if pointer:
                champions[series] = pointer["version"]
    except Exception as exc:
        log.exception("health check cannot reach storage")
        return json_response(
            {"status": "degraded", "storage": f"unreachable: {type(exc).__name__}", "champions": {}}, 503
        )
    return json_response(
        {
            "status": "ok",
            "storage": "ok",
            "champions": champions,
            "code_version": os.environ.get("FORECASTOPS_CODE_VERSION", shared.__version__),
        }
    )


def models(args: dict, service: Service) -> ApiResponse:
    from shared.registry import read_versions
    from shared.serving import raise_missing

    series = args["series"]
    pointer, versions = read_versions(service.container(service.settings.models_container), series)
    if not versions:
        raise_missing(service.settings, series)
    return json_response(
        {
            "series": series,
            "champion": pointer["version"] if pointer else None,
            "champion_history": pointer.get("history", []) if pointer else [],
            "versions": [version_summary(card) for card in versions],
        }
    )


def version_summary(card: dict) -> dict:
    """What the API and the dashboard show of one model card."""
    return {
        "version": card["version"],
        "created_at": card["created_at"],
        "champion": card["champion"],
        "model": card["spec"].get("name"),
        "spec": card["spec"],
        "dataset": card["dataset"],
        "metrics": card.get("metrics"),
        "decision": card["decision"],
    }


def dashboard(args: dict, service: Service) -> ApiResponse:
    from shared.dashboard import dashboard_data, render
    from shared.errors import ForecastOpsError
    from shared.ingest.curated import read_manifest, read_series
    from shared.registry import list_versions

    settings = service.settings
    curated = service.container(settings.curated_container)
    series = args["series"]
    manifest = read_manifest(curated)
    stored = read_series(curated, series)
    try:
        champion = service.cache.get(series)
    except ForecastOpsError:
        champion = None
    from shared.monitoring.store import read_latest

    versions = [version_summary(c) for c in list_versions(service.container(settings.models_container), series)]
    data = dashboard_data(
        series=series,
        series_list=sorted(manifest["series"]),
        history=stored.days if stored else None,
        champion=champion,
        versions=versions,
        drift=read_latest(service.container(settings.monitoring_container), series),
        horizon=args["horizon"],
        key=args["code"],
    )
    return ApiResponse(200, render(_finite(data)).encode(), "text/html")


def drift(args: dict, service: Service) -> ApiResponse:
    from shared.monitoring.store import read_latest

    report = read_latest(service.container(service.settings.monitoring_container), args["series"])
    if report is None:
        from shared.ingest.curated import read_manifest

        if args["series"] not in read_manifest(service.container(service.settings.curated_container))["series"]:
            raise SeriesNotFound(f"unknown series {args['series']}")
        return error_response(404, "no report yet", f"the monitor has not checked series {args['series']} yet")
    return json_response(report)


def promote(args: dict, service: Service) -> ApiResponse:
    from shared.registry import promote as promote_version

    client = service.container(service.settings.models_container)
    pointer = promote_version(client, args["series"], args["version"], reason=args["reason"])
    return json_response(pointer)


def rollback(args: dict, service: Service) -> ApiResponse:
    from shared.registry import rollback as rollback_champion

    client = service.container(service.settings.models_container)
    return json_response(rollback_champion(client, args["series"], reason=args["reason"]))


def openapi(args: dict, service: Service) -> ApiResponse:
    from shared.openapi import document

    return json_response(document(ENDPOINTS.values()))


@dataclass(frozen=True)
class Endpoint:
    """One HTTP endpoint: handler, parameters, response schema and auth level (the OpenAPI source)."""

    name: str
    route: str
    summary: str
    handler: Callable[[dict, Service], ApiResponse]
    params: tuple[Param, ...] = ()
    methods: tuple[str, ...] = ("GET",)
    response: str = ""  # schema name in shared.schemas
    errors: tuple[int, ...] = (400, 404, 503)
    error_response: str = "Error"  # schema name of the error statuses' body
    auth: str = "function"  # anonymous | function | admin
    content_type: str = "application/json"


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint(
            "forecast",
            "forecast",
            "Forecast of a series with prediction intervals from the champion model",
            forecast,
            (
                SERIES,
                HORIZON,
                Param("level", float, "Prediction interval level in percent", default=95.0, minimum=50, maximum=99.5),
            ),
            response="Forecast",
        ),
        Endpoint(
            "models", "models", "Model versions of a series with metrics and decisions", models, (SERIES,),
            response="Models", errors=(400, 404, 503),
        ),
        Endpoint(
            "drift", "drift", "Latest drift and decay report of a series (404 until the monitor has run)", drift,
            (SERIES,), response="DriftReport", errors=(400, 404),
        ),
        Endpoint(
            "promote", "models/{series}/promote", "Make a model version the champion (atomic)", promote,
            (SERIES_IN_PATH, VERSION, REASON),
            methods=("POST",), response="ChampionPointer", errors=(400, 404, 409), auth="admin",
        ),
        Endpoint(
            "rollback", "models/{series}/rollback", "Restore the previous champion (atomic)", rollback,
            (SERIES_IN_PATH, REASON), methods=("POST",), response="ChampionPointer", errors=(400, 404, 409),
            auth="admin",
        ),
        Endpoint(
            "health", "health", "Service status, storage reachability and champions", health,
            response="Health", errors=(503,), error_response="Health", auth="anonymous",
        ),
        Endpoint(
            "dashboard", "dashboard", "Dashboard page: history, forecast band, versions, drift", dashboard,
            (SERIES, dataclasses.replace(HORIZON, default=56),
             Param("code", str, "Function key, kept in the page's links", pattern=r"^[A-Za-z0-9_\-=]{1,200}$")),
            errors=(400,), content_type="text/html",
        ),
        Endpoint("openapi", "openapi.json", "This OpenAPI document", openapi, response="OpenApi", errors=()),
    )
}  # fmt: skip


def respond(
    name: str,
    query: Mapping[str, str],
    service: Service | None = None,
    route_params: Mapping[str, str] | None = None,
) -> ApiResponse:
    """Run endpoint `name` on the request's parameters and map domain errors to HTTP statuses."""
    endpoint = ENDPOINTS[name]
    route_params = route_params or {}
    try:
        args = {}
        for param in endpoint.params:
            raw = route_params.get(param.name) if param.location == "path" else query.get(param.name)
            args[param.name] = param.parse(raw)
            if args[param.name] is None and (param.required or param.location == "path"):
                raise BadParameter(param.name, "is required")
        return endpoint.handler(args, service or default_service())
    except BadParameter as exc:
        return error_response(400, f"invalid parameter {exc.name}", exc.detail)
    except SeriesNotFound as exc:
        return error_response(404, "series not found", str(exc))
    except VersionNotFound as exc:
        return error_response(404, "version not found", str(exc))
    except ConcurrencyConflict as exc:
        return error_response(409, "conflict", str(exc))
    except NoModelYet as exc:
        return error_response(503, "no model yet", str(exc))
    except Exception:
        log.exception("endpoint %s failed", name)
        return error_response(500, "internal error", "the failure was logged; try again later")
