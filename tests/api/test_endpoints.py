"""API endpoints in process (shared.api.respond) over real Azurite state; HTTP itself is tested end to end."""

import dataclasses
import json
import time
from datetime import date, timedelta

import pytest

from shared import registry
from shared.api import Service, respond
from shared.ingest import process_upload
from shared.storage import container
from tests.factories import publish


def call(service, name, **query):
    response = respond(name, {k: str(v) for k, v in query.items()}, service)
    return response.status, json.loads(response.body)


@pytest.fixture
def service(settings):
    return Service(settings)


def test_forecast_defaults(settings, service):
    version = publish(settings)
    status, body = call(service, "forecast")
    assert status == 200
    assert body["model_version"] == version and body["series"] == "total" and body["level"] == 95.0
    assert len(body["points"]) == 28
    assert body["points"][0]["date"] == "2024-02-26" and body["points"][-1]["date"] == "2024-03-24"
    for point in body["points"]:
        assert point["lower"] < point["forecast"] < point["upper"]


def test_level_between_stored_levels_is_between_their_widths(settings, service):
    publish(settings)
    widths = {}
    for level in (80, 85, 90):
        _, body = call(service, "forecast", horizon=7, level=level)
        widths[level] = [p["upper"] - p["lower"] for p in body["points"]]
    for w80, w85, w90 in zip(widths[80], widths[85], widths[90], strict=True):
        assert w80 < w85 < w90


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"horizon": "0"}, "from 1 to 90"),
        ({"horizon": "abc"}, "an integer"),
        ({"horizon": "91"}, "from 1 to 90"),
        ({"level": "120"}, "from 50 to 99.5"),
        ({"level": "nan"}, "a number"),
        ({"series": "../etc"}, "must match"),
    ],
)
def test_bad_parameters_are_400_with_the_allowed_range(settings, service, query, fragment):
    publish(settings)
    status, body = call(service, "forecast", **query)
    assert status == 400
    assert set(body) == {"error", "detail"} and fragment in body["detail"]


def test_unknown_series_is_404_and_series_without_model_is_503(settings, service):
    status, body = call(service, "forecast", series="nope")
    assert status == 404 and "unknown series nope" in body["detail"]
    process_upload("m.csv", b"date,value\n2024-01-01,5\n", settings=settings)
    status, body = call(service, "forecast", series="total")
    assert status == 503 and body["error"] == "no model yet"


def test_health_and_models(settings, service):
    first = publish(settings)
    second = publish(settings, level=200.0, promote=False)
    status, body = call(service, "health")
    assert status == 200 and body["status"] == "ok" and body["champions"] == {"total": first}
    status, body = call(service, "models", series="total")
    assert status == 200 and body["champion"] == first
    assert [(v["version"], v["champion"]) for v in body["versions"]] == [(first, True), (second, False)]


def test_health_reports_unreachable_storage(settings):
    broken = dataclasses.replace(
        settings,
        storage_connection_string="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
    )
    status, body = call(Service(broken), "health")
    assert status == 503 and body["status"] == "degraded" and body["storage"].startswith("unreachable")


def test_promotion_is_served_within_the_cache_period(settings):
    settings = dataclasses.replace(settings, champion_cache_seconds=1)
    service = Service(settings)
    first = publish(settings)
    second = publish(settings, level=500.0, promote=False)
    assert call(service, "forecast")[1]["model_version"] == first
    time.sleep(1.1)
    assert call(service, "forecast")[1]["model_version"] == first  # revalidated, unchanged
    registry.promote(container(settings.models_container, settings), "total", second)
    assert call(service, "forecast")[1]["model_version"] == first  # still cached
    time.sleep(1.1)
    status, body = call(service, "forecast")
    assert status == 200 and body["model_version"] == second and body["points"][0]["forecast"] > 400
    registry.rollback(container(settings.models_container, settings), "total")
    time.sleep(1.1)
    assert call(service, "forecast")[1]["model_version"] == first


def test_forecast_starts_the_day_after_the_data(settings, service):
    publish(settings)
    _, body = call(service, "forecast", horizon=1)
    assert date.fromisoformat(body["points"][0]["date"]) == date.fromisoformat(body["trained_through"]) + timedelta(1)
