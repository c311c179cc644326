"""HTTP API: declared endpoints, parameter parsing, handlers and the error mapping (the API edge)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import shared
from shared.errors import BadParameter, NoModelYet, SeriesNotFound

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

    def parse(self, raw: str | None) -> Any:
        if raw is None or raw == "":
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


def json_response(document: Any, status: int = 200) -> ApiResponse:
    return ApiResponse(status, json.dumps(document, default=str).encode())


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
    from shared.registry import list_versions, read_champion

    client = service.container(service.settings.models_container)
    series = args["series"]
    versions = list_versions(client, series)
    if not versions:
        service.cache.raise_missing(series)
    pointer, _ = read_champion(client, series)
    return json_response(
        {
            "series": series,
            "champion": pointer["version"] if pointer else None,
            "champion_history": pointer.get("history", []) if pointer else [],
            "versions": [
                {
                    "version": card["version"],
                    "created_at": card["created_at"],
                    "champion": card["champion"],
                    "model": card["spec"].get("name"),
                    "spec": card["spec"],
                    "dataset": card["dataset"],
                    "metrics": card.get("metrics"),
                    "decision": card["decision"],
                }
                for card in versions
            ],
        }
    )


@dataclass(frozen=True)
class Endpoint:
    """One HTTP endpoint: its handler and the parameters it accepts."""

    name: str
    route: str
    summary: str
    handler: Callable[[dict, Service], ApiResponse]
    params: tuple[Param, ...] = ()
    methods: tuple[str, ...] = ("GET",)


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
                Param("horizon", int, "Number of periods ahead", default=28, minimum=1, maximum=90),
                Param("level", float, "Prediction interval level in percent", default=95.0, minimum=50, maximum=99.5),
            ),
        ),
        Endpoint("models", "models", "Model versions of a series with metrics and decisions", models, (SERIES,)),
        Endpoint("health", "health", "Service status, storage reachability and champions", health),
    )
}


def respond(name: str, query: Mapping[str, str], service: Service | None = None) -> ApiResponse:
    """Run endpoint `name` on a query mapping and map domain errors to HTTP statuses."""
    endpoint = ENDPOINTS[name]
    try:
        args = {p.name: p.parse(query.get(p.name)) for p in endpoint.params}
        return endpoint.handler(args, service or default_service())
    except BadParameter as exc:
        return error_response(400, f"invalid parameter {exc.name}", exc.detail)
    except SeriesNotFound as exc:
        return error_response(404, "series not found", str(exc))
    except NoModelYet as exc:
        return error_response(503, "no model yet", str(exc))
    except Exception:
        log.exception("endpoint %s failed", name)
        return error_response(500, "internal error", "the failure was logged; try again later")
