"""API endpoints in process (shared.api.respond) over real Azurite state; HTTP itself is tested end to end."""

import dataclasses
import json
import re
import time
from datetime import date, timedelta

import pytest

from shared import registry
from shared.api import Service, respond
from shared.ingest import process_upload
from shared.storage import container
from tests.factories import publish


def call(service, name, route_params=None, **query):
    response = respond(name, {k: str(v) for k, v in query.items()}, service, route_params=route_params)
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
        ({"horizon": "5_0"}, "ASCII digits"),
        ({"horizon": "\u0665\u0660"}, "ASCII digits"),  # Arabic-Indic 50
        ({"horizon": "\uff15"}, "ASCII digits"),  # fullwidth 5
        ({"horizon": " 5"}, "ASCII digits"),
        ({"horizon": "+5"}, "ASCII digits"),
        ({"level": "9_5"}, "ASCII digits"),
        ({"level": "inf"}, "ASCII digits"),
        ({"level": "9.5e1"}, "ASCII digits"),
        ({"series": "total\n"}, "must match"),
        ({"series": "t\u00f6tal"}, "must match"),
        ({"series": "total\u0665"}, "must match"),
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
    status, body = call(service, "forecast", series="nope")
    assert (status, body["detail"]) == (404, "unknown series nope")  # the estate's other series are not listed


def test_models_marks_the_champion(settings, service):
    first = publish(settings)
    second = publish(settings, level=200.0, promote=False)
    status, body = call(service, "models", series="total")
    assert status == 200 and body["champion"] == first
    assert [(v["version"], v["champion"]) for v in body["versions"]] == [(first, True), (second, False)]


def test_health_reports_unreachable_storage(settings):
    broken = dataclasses.replace(
        settings,
        storage_connection_string="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
    )
    started = time.monotonic()
    status, body = call(Service(broken), "health")
    assert status == 503 and body["status"] == "degraded" and body["storage"].startswith("unreachable")
    assert body["counts"] is None and time.monotonic() - started < 5  # no retries: a refused probe answers at once


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_promotion_is_served_within_the_cache_period(settings):
    settings = dataclasses.replace(settings, champion_cache_seconds=60)
    clock = Clock()
    service = Service(settings, clock=clock)
    first = publish(settings)
    second = publish(settings, level=500.0, promote=False)
    assert call(service, "forecast")[1]["model_version"] == first
    clock.now += 61
    assert call(service, "forecast")[1]["model_version"] == first  # revalidated, unchanged
    registry.promote(container(settings.models_container, settings), "total", second)
    clock.now += 59
    assert call(service, "forecast")[1]["model_version"] == first  # still cached, one second before the period ends
    clock.now += 2
    status, body = call(service, "forecast")
    assert status == 200 and body["model_version"] == second and body["points"][0]["forecast"] > 400
    registry.rollback(container(settings.models_container, settings), "total")
    assert call(service, "forecast")[1]["model_version"] == second  # cached again
    clock.now += 61
    assert call(service, "forecast")[1]["model_version"] == first


def test_forecast_starts_the_day_after_the_data(settings, service):
    publish(settings)
    _, body = call(service, "forecast", horizon=1)
    assert date.fromisoformat(body["points"][0]["date"]) == date.fromisoformat(body["trained_through"]) + timedelta(1)


def page_data(html: str) -> dict:
    """The JSON the page embeds (the only application/json script)."""
    start = html.index('<script type="application/json" id="dashboard-data">') + len(
        '<script type="application/json" id="dashboard-data">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_reason_with_a_control_character_is_400(settings, service):
    version = publish(settings, promote=False)
    response = respond("promote", {"version": version, "reason": "ok\nforged log line"}, service, {"series": "total"})
    assert response.status == 400 and json.loads(response.body)["error"] == "invalid parameter reason"


def test_dashboard_of_an_unknown_series_is_404(settings, service):
    publish(settings)
    status, body = call(service, "dashboard", series="nope")
    assert status == 404 and body["error"] == "series not found"
    response = respond("series_detail", {}, service, {"series": "nope"})
    assert response.status == 404


def test_dashboard_placeholders_in_values_stay_text(settings, service):
    """A series named after a placeholder, and hostile text in the data, land as text in one place."""
    from shared.dashboard import render, template

    version = publish(settings, series="a__DATA__")
    response = respond("dashboard", {"series": "a__DATA__", "code": "secret-key"}, service)
    html = response.body.decode()
    assert response.status == 200 and response.content_type == "text/html"
    assert "<title>ForecastOps — a__DATA__</title>" in html
    assert html.count('id="dashboard-data"') == 1 and html.count("a__DATA__") == 2  # title, and once in the JSON
    data = page_data(html)
    assert data["view"] == "series" and data["detail"]["series"] == "a__DATA__"
    assert data["detail"]["forecast"]["model_version"] == version
    assert "secret-key" not in html and not re.search(r"href=[^>]*code=", html)

    hostile = {"series": "</script><script>alert(1)</script>__TITLE__", "note": "a & b > c <!--"}
    page = render("<b>__DATA__</b>", hostile)
    assert "<title>ForecastOps — &lt;b&gt;__DATA__&lt;/b&gt;</title>" in page
    assert "</script><script>alert(1)" not in page and "<!--" not in page
    assert page_data(page) == hostile
    assert len(page) == len(template()) - len("__TITLE____DATA__") + len("&lt;b&gt;__DATA__&lt;/b&gt;") + len(
        json.dumps(hostile).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


def test_dashboard_without_a_series_is_the_fleet_overview(settings, service):
    from shared import fleet

    publish(settings)
    publish(settings, series="second")
    fleet.rebuild(
        container(settings.models_container, settings),
        container(settings.monitoring_container, settings),
        ["total", "second"],
    )
    response = respond("dashboard", {}, service)
    data = page_data(response.body.decode())
    assert response.status == 200 and data["view"] == "fleet"
    assert data["fleet"]["counts"]["series"] == 2 and data["fleet"]["counts"]["champions"] == 2
    assert [e["series"] for e in data["page"]["series"]] == ["second", "total"]
    assert data["page"]["next_cursor"] is None and "not-checked" in data["statuses"]


def test_series_detail_heals_a_fleet_entry_after_a_promotion_outside_the_api(settings, service):
    from shared import fleet

    first = publish(settings)
    monitoring = container(settings.monitoring_container, settings)
    fleet.rebuild(container(settings.models_container, settings), monitoring, ["total"])
    second = publish(settings, level=300.0)  # promoted straight in the registry, as the CLI does
    assert fleet.read_entry(monitoring, "total").champion == first
    response = respond("series_detail", {}, service, {"series": "total"})
    assert response.status == 200 and json.loads(response.body)["forecast"]["model_version"] == second
    assert fleet.read_entry(monitoring, "total").champion == second
