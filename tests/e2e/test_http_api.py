"""The HTTP API over real HTTP against the local runner: every endpoint, every error status, ETag refresh."""

import json
import time
import urllib.error
import urllib.request

import pytest

from localrun import Runner
from localrun.sample import monthly_files
from shared import registry
from shared.api import ENDPOINTS
from shared.ingest import process_upload
from shared.openapi import document
from shared.storage import container
from tests.factories import publish, wait_for

MONTHS = monthly_files()


def request(url: str, method: str = "GET") -> tuple[int, dict, str]:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read()
    content_type = headers.get("Content-Type", "")
    return status, json.loads(body) if "json" in content_type else {}, content_type


@pytest.fixture
def api(app_env):
    with Runner(port=0, poll_interval=0.2) as runner:
        yield runner.base_url + "/api", app_env


def test_forecast_models_health_and_openapi(api):
    base, settings = api
    version = publish(settings)
    status, body, kind = request(f"{base}/forecast?series=total&horizon=7&level=80")
    assert (status, kind) == (200, "application/json")
    assert body["model_version"] == version and len(body["points"]) == 7 and body["level"] == 80
    status, body, _ = request(f"{base}/models?series=total")
    assert status == 200 and body["champion"] == version and body["versions"][0]["champion"] is True
    status, body, _ = request(f"{base}/health")
    assert status == 200 and body["status"] == "ok" and body["storage"] == "ok" and "total" not in json.dumps(body)
    status, body, _ = request(f"{base}/health/detail")
    assert status == 200 and body["containers"] == dict.fromkeys(settings.containers, "ok")
    status, body, _ = request(f"{base}/openapi.json")
    assert status == 200 and body == json.loads(json.dumps(document(ENDPOINTS.values())))
    assert set(body["paths"]) == {f"/api/{e.route}" for e in ENDPOINTS.values()}


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("forecast?horizon=0", 400, "invalid parameter horizon"),
        ("forecast?level=abc", 400, "invalid parameter level"),
        ("forecast?series=a%20b", 400, "invalid parameter series"),
        ("forecast?series=total%0A", 400, "invalid parameter series"),
        ("forecast?horizon=5_0", 400, "invalid parameter horizon"),
        ("forecast?horizon=%D9%A5%D9%A0", 400, "invalid parameter horizon"),
        ("forecast?level=9%D9%A5", 400, "invalid parameter level"),
        ("series?limit=%EF%BC%95", 400, "invalid parameter limit"),
        ("dashboard?series=unknown", 404, "series not found"),
        ("series/unknown", 404, "series not found"),
        ("forecast?series=unknown", 404, "series not found"),
        ("models?series=unknown", 404, "series not found"),
        ("forecast?series=fresh", 503, "no model yet"),
    ],
)
def test_error_statuses(api, path, status, error):
    base, settings = api
    publish(settings)
    process_upload("fresh.csv", b"date,value\n2024-01-01,5\n", metadata={"series_id": "fresh"}, settings=settings)
    got, body, _ = request(f"{base}/{path}")
    assert (got, body["error"]) == (status, error)
    assert body["detail"]


def test_unknown_route_and_wrong_method(api):
    base, _ = api
    assert request(f"{base}/nothing-here")[0] == 404
    assert request(f"{base}/forecast", method="POST")[0] == 405


def test_promote_and_rollback_endpoints_move_what_forecast_serves(api):
    base, settings = api
    first = publish(settings)
    second = publish(settings, level=900.0, promote=False)
    status, body, _ = request(f"{base}/models/total/promote?version={second}&reason=test", method="POST")
    assert status == 200 and body["version"] == second and body["reason"] == "test"
    time.sleep(settings.champion_cache_seconds + 0.2)
    assert request(f"{base}/forecast")[1]["model_version"] == second
    status, body, _ = request(f"{base}/models/total/rollback", method="POST")
    assert status == 200 and body["version"] == first
    time.sleep(settings.champion_cache_seconds + 0.2)
    assert request(f"{base}/forecast")[1]["model_version"] == first
    assert request(f"{base}/models/total/rollback", method="POST")[:2] == (
        404,
        {"error": "version not found", "detail": "series total has no earlier champion to roll back to"},
    )
    status, body, _ = request(f"{base}/models/total/promote?version=v-missing", method="POST")
    assert status == 404 and body["error"] == "version not found"
    status, body, _ = request(f"{base}/models/total/promote", method="POST")
    assert status == 400 and body["detail"] == "is required"


def test_etag_refresh_after_promotion_outside_the_api(api):
    base, settings = api
    first = publish(settings)
    assert request(f"{base}/forecast")[1]["model_version"] == first
    second = publish(settings, level=300.0, promote=False)
    registry.promote(container(settings.models_container, settings), "total", second)
    deadline = time.monotonic() + settings.champion_cache_seconds + 2
    served = first
    while served != second and time.monotonic() < deadline:
        served = request(f"{base}/forecast")[1]["model_version"]
        time.sleep(0.1)
    assert served == second


def test_dashboard_is_html_with_embedded_data(api):
    base, settings = api
    version = publish(settings)
    status, _, kind = request(f"{base}/dashboard?series=total")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    with urllib.request.urlopen(f"{base}/dashboard?series=total&code=k-123") as response:
        page = response.read().decode()
    assert version in page and "<script" in page and "http://" not in page.split("<body>")[0]
    assert "k-123" not in page


def test_a_series_named_like_a_placeholder_stays_in_its_place(api):
    base, settings = api
    publish(settings, series="a__DATA__")
    with urllib.request.urlopen(f"{base}/dashboard?series=a__DATA__") as response:
        page = response.read().decode()
    assert "<title>ForecastOps — a__DATA__</title>" in page
    data = page[page.index('id="dashboard-data">') :]
    assert data.count("a__DATA__") == 1 and page.count('"view": "series"') == 1


def test_series_pages_over_http(api):
    from shared import fleet

    base, settings = api
    monitoring = container(settings.monitoring_container, settings)
    for i in range(7):
        fleet.record(monitoring, f"s{i}", {"champion": f"v{i}", "status": "ok"})
    names, cursor = [], None
    while True:
        status, body, _ = request(f"{base}/series?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        names += [e["series"] for e in body["series"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert names == [f"s{i}" for i in range(7)]
    status, body, _ = request(f"{base}/fleet")
    assert status == 200 and body["counts"]["series"] == 7 and body["counts"]["by_status"]["ok"] == 7
    status, body, _ = request(f"{base}/health")
    assert status == 200 and body["counts"]["series"] == 7  # the overview's recount also refreshed the counts


def test_drift_report_is_404_until_the_monitor_ran_then_served(api):
    from shared.monitoring.service import run_checks

    base, settings = api
    assert request(f"{base}/drift?series=nope")[:2] == (
        404,
        {"error": "series not found", "detail": "unknown series nope"},
    )
    for name, data in MONTHS[-4:]:
        process_upload(name, data, settings=settings)
    # The runner's retrain trigger takes the requests; wait for the champion trained on all four months.
    wait_for(lambda: request(f"{base}/forecast")[1].get("trained_through") == "2014-05-31")
    status, body, _ = request(f"{base}/drift?series=total")
    assert status == 404 and body["error"] == "no report yet"
    (report,) = run_checks(settings)
    status, body, _ = request(f"{base}/drift?series=total")
    assert status == 200 and body["run_id"] == report["run_id"] and body["status"] == report["status"]
    assert set(body["drift"]["checks"]) >= {"ks", "psi", "wasserstein", "level_shift"}
