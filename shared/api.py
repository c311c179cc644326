"""HTTP API: declared endpoints, parameter parsing, handlers and the error mapping (the API edge)."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import shared
from shared.errors import BadParameter, ConcurrencyConflict, NoModelYet, SeriesNotFound, VersionNotFound
from shared.jsonsafe import json_safe
from shared.schemas import FLEET_STATUSES
from shared.series_id import SERIES_ID_PATTERN

log = logging.getLogger(__name__)

# Numbers in ASCII digits only: no "5_0", no other scripts' digits, no "inf", "nan" or exponents.
NUMBER_FORMS = {int: re.compile(r"-?[0-9]{1,9}"), float: re.compile(r"-?[0-9]{1,9}(?:\.[0-9]{1,20})?")}


@dataclass(frozen=True)
class Param:
    """One query parameter: parsing, validation and its OpenAPI description come from here.

    A value must match the whole of its form (`re.fullmatch`, ASCII only): a trailing newline or a
    character outside the pattern is a 400, never trimmed or read leniently.
    """

    name: str
    kind: type
    description: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    location: str = "query"  # or "path"
    required: bool = False
    choices: tuple[str, ...] | None = None

    def parse(self, raw: str | None) -> Any:
        if raw is None:
            return self.default
        if self.kind in NUMBER_FORMS:
            if not NUMBER_FORMS[self.kind].fullmatch(raw):
                raise BadParameter(self.name, f"must be {self._expected()} in ASCII digits, got {raw!r}")
            value = self.kind(raw)
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise BadParameter(self.name, f"must be {self._expected()}, got {raw!r}")
            return value
        if self.choices is not None and raw not in self.choices:
            raise BadParameter(self.name, f"must be one of {', '.join(self.choices)}, got {raw!r}")
        if self.pattern is not None and not re.fullmatch(self.pattern, raw, re.ASCII):
            raise BadParameter(self.name, f"must match {self.pattern}, got {raw!r}")
        return raw

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
    return ApiResponse(status, json.dumps(json_safe(document), default=str, allow_nan=False).encode())


def error_response(status: int, error: str, detail: str) -> ApiResponse:
    return json_response({"error": error, "detail": detail}, status)


class Service:
    """State shared by the handlers of one process: settings and the champion cache."""

    def __init__(self, settings=None, clock: Callable[[], float] | None = None) -> None:
        """`clock` (monotonic seconds) drives the champion cache's period; tests pass their own."""
        from shared.serving import ChampionCache

        self.cache = ChampionCache(settings) if clock is None else ChampionCache(settings, clock)

    @property
    def settings(self):
        return self.cache.settings

    def container(self, name: str):
        from shared.storage import container

        return container(name, self.settings)


@lru_cache(maxsize=1)
def default_service() -> Service:
    return Service()


SERIES = Param("series", str, "Series identifier", default="total", pattern=SERIES_ID_PATTERN)
SERIES_IN_PATH = dataclasses.replace(SERIES, default=None, location="path")
HORIZON = Param("horizon", int, "Number of periods ahead", default=28, minimum=1, maximum=90)
VERSION = Param("version", str, "Version to promote", required=True, pattern=r"^v[0-9A-Za-z.\-]{1,80}$")
REASON = Param(
    "reason",
    str,
    "Reason recorded in the champion history",
    default="manual change via the API",
    pattern=r"^[ -~]{1,200}$",
)


def forecast(args: dict, service: Service) -> ApiResponse:
    from shared.serving import build_forecast, forecast_headers

    champion = service.cache.get(args["series"])
    response = json_response(build_forecast(champion, args["horizon"], args["level"]))
    response.headers.update(forecast_headers(champion))
    return response


def _storage_problem(missing: list[str], kind: str = "container") -> str:
    if len(missing) == 1:
        return f"{kind} {missing[0]} does not exist"
    return f"{kind}s {', '.join(missing)} do not exist"


def _containers(service: Service) -> dict[str, dict]:
    """The app's containers that exist, with their metadata: one list call (no retries, short timeouts)."""
    from shared.storage import probe_service

    wanted = set(service.settings.containers)
    found: dict[str, dict] = {}
    for item in probe_service(service.settings).list_containers(include_metadata=True):
        if item.name in wanted:
            found[item.name] = dict(item.metadata or {})
            if len(found) == len(wanted):
                break
    return found


def _code_version() -> str:
    return os.environ.get("FORECASTOPS_CODE_VERSION", shared.__version__)


def health(args: dict, service: Service) -> ApiResponse:
    """Constant time and size: one storage call, counts from the monitoring container's metadata, no names."""
    from shared.fleet import counts_from_metadata

    document = {"status": "ok", "storage": "ok", "counts": None, "counts_as_of": None, "last_check": None}
    try:
        containers = _containers(service)
    except Exception as exc:
        log.warning("health check cannot reach storage: %s: %s", type(exc).__name__, exc)
        document.update(status="degraded", storage=f"unreachable: {type(exc).__name__}")
        return json_response({**document, "code_version": _code_version()}, 503)
    missing = [name for name in service.settings.containers if name not in containers]
    counts, as_of, last_check = counts_from_metadata(containers.get(service.settings.monitoring_container, {}))
    document.update(counts=counts, counts_as_of=as_of, last_check=last_check)
    if missing:
        document.update(status="degraded", storage=_storage_problem(missing))
    return json_response({**document, "code_version": _code_version()}, 503 if missing else 200)


def _queue_state(service: Service, name: str) -> dict:
    """Existence, approximate depth and age of the oldest visible message of one queue (two calls)."""
    from datetime import UTC, datetime

    from azure.core.exceptions import ResourceNotFoundError

    from shared.storage import probe_service

    client = probe_service(service.settings, "queue").get_queue_client(name)
    try:
        depth = client.get_queue_properties().approximate_message_count
        oldest = next(iter(client.peek_messages(max_messages=1)), None)
    except ResourceNotFoundError:
        return {"exists": False, "depth": None, "oldest_age_seconds": None}
    age = None
    if oldest is not None and oldest.inserted_on is not None:
        age = round((datetime.now(UTC) - oldest.inserted_on).total_seconds(), 1)
    return {"exists": True, "depth": depth, "oldest_age_seconds": age}


def detail_queues(settings) -> dict[str, str]:
    """Role -> queue name of every queue the detailed health reads."""
    retrain, monitor, outbox = settings.retrain_queue, settings.monitor_queue, settings.registry_outbox_queue
    return {
        "retrain": retrain,
        "retrain_poison": f"{retrain}-poison",
        "monitor": monitor,
        "monitor_poison": f"{monitor}-poison",
        "blob_trigger_poison": "webjobs-blobtrigger-poison",
        "registry_outbox": outbox,
        "registry_outbox_poison": f"{outbox}-poison",
    }


REQUIRED_QUEUES = ("retrain", "retrain_poison")
TOP_CORRUPT = 50  # series named in the detailed health; the count covers them all


def health_detail(args: dict, service: Service) -> ApiResponse:
    """Everything an operator looks at: containers, queue depths and poison, lags, corrupt artifacts."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from shared.fleet import read_summary

    settings = service.settings
    try:
        containers = _containers(service)
    except Exception as exc:
        log.warning("detailed health cannot reach storage: %s: %s", type(exc).__name__, exc)
        body = {"status": "degraded", "storage": f"unreachable: {type(exc).__name__}", "problems": [str(exc)[:300]]}
        return json_response({**body, "code_version": _code_version()}, 503)
    problems = []
    missing = [name for name in settings.containers if name not in containers]
    if missing:
        problems.append(_storage_problem(missing))
    roles = detail_queues(settings)
    with ThreadPoolExecutor(len(roles)) as pool:
        states = dict(zip(roles, pool.map(lambda name: _queue_state(service, name), roles.values()), strict=True))
    queues = {roles[role]: state for role, state in states.items()}
    gone = [roles[role] for role in REQUIRED_QUEUES if not states[role]["exists"]]
    if gone:
        problems.append(_storage_problem(gone, "queue"))
    poison = {roles[r]: states[r]["depth"] for r in roles if r.endswith("poison") and states[r]["exists"]}
    for name, depth in poison.items():
        if depth:
            problems.append(f"queue {name} holds {depth} message(s) that failed for good")
    corrupt = None
    if settings.models_container in containers:
        from shared.serving import degraded_series

        corrupt = degraded_series(settings)
        if corrupt:
            problems.append(f"{len(corrupt)} series have a corrupt champion: {', '.join(corrupt[:10])}")
    fleet = None
    if settings.monitoring_container in containers:
        # The stored count as it is (fleet_as_of says when): a detailed health never recounts the estate.
        fleet = read_summary(service.container(settings.monitoring_container), max_age_seconds=math.inf)
    last_check = fleet["last_check"] if fleet else None
    since = None
    if last_check:
        since = round((datetime.now(UTC) - datetime.fromisoformat(last_check)).total_seconds(), 1)
    document = {
        "status": "degraded" if problems else "ok",
        "storage": _storage_problem(missing) if missing else "ok",
        "problems": problems,
        "containers": {name: ("ok" if name in containers else "missing") for name in settings.containers},
        "queues": queues,
        "poison": poison,
        "registry_lag": {
            "pending_retrains": states["retrain"]["depth"],
            "oldest_pending_retrain_seconds": states["retrain"]["oldest_age_seconds"],
            "outbox_pending": states["registry_outbox"]["depth"],
            "oldest_outbox_seconds": states["registry_outbox"]["oldest_age_seconds"],
        },
        "monitor_lag": {
            "last_check": last_check,
            "seconds_since_last_check": since,
            "pending_checks": states["monitor"]["depth"],
            "oldest_pending_check_seconds": states["monitor"]["oldest_age_seconds"],
        },
        "last_monitor_run": last_check,
        "corrupt_artifacts": {
            "count": len(corrupt) if corrupt is not None else None,
            "series": (corrupt or [])[:TOP_CORRUPT],
        },
        "fleet": fleet["counts"] if fleet else None,
        "fleet_as_of": fleet["computed_at"] if fleet else None,
        "code_version": _code_version(),
    }
    return json_response(document, 503 if missing or gone else 200)


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


def series_data(service: Service, series: str, horizon: int) -> dict:
    """One series as the dashboard shows it: history, forecast band, versions, drift (404 if unknown)."""
    from shared.dashboard import dashboard_data
    from shared.errors import ForecastOpsError
    from shared.fleet import read_entry, record_champion
    from shared.ingest.curated import read_series
    from shared.monitoring.store import read_latest
    from shared.registry import list_versions

    settings = service.settings
    stored = read_series(service.container(settings.curated_container), series)
    cards = list_versions(service.container(settings.models_container), series)
    if stored is None and not cards:
        raise SeriesNotFound(f"unknown series {series}")
    champion = None
    if any(card["champion"] for card in cards):
        try:
            champion = service.cache.get(series)
        except ForecastOpsError:
            log.warning("the champion of %s cannot be served; the dashboard shows it without a forecast", series)
    monitoring = service.container(settings.monitoring_container)
    if champion is not None:  # heal the fleet entry when the champion moved outside the retrain path
        entry = read_entry(monitoring, series)
        if entry is None or entry.champion != champion.version:
            card = next(c for c in cards if c["version"] == champion.version)
            pointer = {"series": series, "version": champion.version, "promoted_at": champion.promoted_at}
            record_champion(monitoring, card, pointer)
    return json_safe(
        dashboard_data(
            series=series,
            history=stored.days if stored else None,
            champion=champion,
            versions=[version_summary(c) for c in cards],
            drift=read_latest(monitoring, series),
            horizon=horizon,
            fallback=next((c.get("fallback") for c in cards if champion and c["version"] == champion.version), None),
        )
    )


def series_detail(args: dict, service: Service) -> ApiResponse:
    return json_response(series_data(service, args["series"], args["horizon"]))


LIMIT = Param("limit", int, "Series per page", default=50, minimum=1, maximum=500)
CURSOR = Param("cursor", str, "Opaque cursor of the next page, from next_cursor", pattern=r"^[A-Za-z0-9_\-]{1,4000}$")
STATUS = Param("status", str, "Only series with this drift status", choices=FLEET_STATUSES)
PREFIX = Param("prefix", str, "Only series whose id starts with this", default="", pattern=r"^[A-Za-z0-9_.\-]{0,64}$")


def fleet_page(service: Service, limit: int, cursor: str | None, prefix: str, status: str | None) -> dict:
    from shared.fleet import list_page

    entries, following = list_page(
        service.container(service.settings.monitoring_container),
        limit=limit,
        cursor=cursor,
        prefix=prefix,
        status=status,
    )
    return {"series": [e.as_dict() for e in entries], "next_cursor": following}


def series_list(args: dict, service: Service) -> ApiResponse:
    return json_response(fleet_page(service, args["limit"], args["cursor"], args["prefix"], args["status"]))


def fleet(args: dict, service: Service) -> ApiResponse:
    from shared.fleet import read_summary

    return json_response(read_summary(service.container(service.settings.monitoring_container)))


def dashboard(args: dict, service: Service) -> ApiResponse:
    """The fleet overview without `series`, the series' page with it (404 for an unknown series)."""
    from shared.dashboard import render
    from shared.fleet import read_summary

    if args["series"] is None:
        data = {
            "view": "fleet",
            "fleet": read_summary(service.container(service.settings.monitoring_container)),
            "page": fleet_page(service, 50, None, "", None),
        }
        title = "fleet"
    else:
        data = {"view": "series", "detail": series_data(service, args["series"], args["horizon"])}
        title = args["series"]
    data["statuses"] = list(FLEET_STATUSES)
    return ApiResponse(200, render(title, json_safe(data)).encode(), "text/html")


def drift(args: dict, service: Service) -> ApiResponse:
    from shared.monitoring.store import read_latest

    report = read_latest(service.container(service.settings.monitoring_container), args["series"])
    if report is None:
        from shared.ingest.curated import read_manifest

        if args["series"] not in read_manifest(service.container(service.settings.curated_container))["series"]:
            raise SeriesNotFound(f"unknown series {args['series']}")
        return error_response(404, "no report yet", f"the monitor has not checked series {args['series']} yet")
    return json_response(report)


def _record_pointer(service: Service, pointer: dict) -> None:
    from shared.fleet import record_champion
    from shared.registry import read_card

    card = read_card(service.container(service.settings.models_container), pointer["series"], pointer["version"])
    record_champion(service.container(service.settings.monitoring_container), card, pointer)


def promote(args: dict, service: Service) -> ApiResponse:
    from shared.registry import promote as promote_version

    client = service.container(service.settings.models_container)
    pointer = promote_version(client, args["series"], args["version"], reason=args["reason"])
    _record_pointer(service, pointer)
    return json_response(pointer)


def rollback(args: dict, service: Service) -> ApiResponse:
    from shared.registry import rollback as rollback_champion

    client = service.container(service.settings.models_container)
    pointer = rollback_champion(client, args["series"], reason=args["reason"])
    _record_pointer(service, pointer)
    return json_response(pointer)


def openapi(args: dict, service: Service) -> ApiResponse:
    from shared.openapi import document

    return json_response(document(ENDPOINTS.values()))


@dataclass(frozen=True)
class Endpoint:
    """One HTTP endpoint: handler, parameters, response schema and auth level (the OpenAPI source).

    functions/api.py registers one HTTP function per endpoint from this declaration alone.
    """

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
            "series", "series", "The fleet a page at a time: champion, data through, MASE, drift status",
            series_list, (LIMIT, CURSOR, PREFIX, STATUS), response="SeriesPage", errors=(400, 503),
        ),
        Endpoint(
            "series_detail", "series/{series}", "One series as the dashboard shows it: history, forecast, versions",
            series_detail, (SERIES_IN_PATH, dataclasses.replace(HORIZON, default=56)), response="SeriesDetail",
            errors=(400, 404, 503),
        ),
        Endpoint(
            "fleet", "fleet", "Fleet overview: counts by status, series that drift or decay, worst MASE", fleet,
            response="FleetSummary", errors=(503,),
        ),
        Endpoint(
            "health", "health", "Service status, storage and fleet counts (constant time and size)", health,
            response="Health", errors=(503,), error_response="Health", auth="anonymous",
        ),
        Endpoint(
            "health_detail", "health/detail", "Queue depths, poison messages, lags and corrupt artifacts",
            health_detail, response="HealthDetail", errors=(503,), error_response="HealthDetail",
        ),
        Endpoint(
            "dashboard", "dashboard", "Dashboard page: the fleet overview, or one series' history and forecast",
            dashboard, (dataclasses.replace(SERIES, default=None), dataclasses.replace(HORIZON, default=56)),
            errors=(400, 404, 503), content_type="text/html",
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
    except Exception as exc:
        missing = _missing_container(exc, (service or default_service()).settings.containers)
        if missing is not None:
            return error_response(503, "storage not set up", f"container {missing} does not exist")
        log.exception("endpoint %s failed", name)
        return error_response(500, "internal error", "the failure was logged; try again later")


def _missing_container(exc: Exception, names: tuple[str, ...]) -> str | None:
    """Which of the app's containers a storage call found missing, or None for any other failure."""
    from azure.core.exceptions import ResourceNotFoundError

    if not isinstance(exc, ResourceNotFoundError) or getattr(exc, "error_code", None) != "ContainerNotFound":
        return None
    request = getattr(getattr(exc, "response", None), "request", None)
    segments = request.url.split("?")[0].split("/") if request is not None else []
    return next((name for name in names if name in segments), "of this app")
