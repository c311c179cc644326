"""The fleet index, GET /api/series, the overview and both healths, in process over real Azurite."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import BlobServiceClient

from shared import fleet
from shared.api import Service
from shared.errors import CorruptArtifact
from shared.registry import mark_corrupt
from shared.storage import container, queue
from tests.api.test_endpoints import call
from tests.factories import count_blob_requests, publish


class CountingService(Service):
    """A service whose blob clients count the requests they send (real Azurite, nothing mocked)."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.requests: list[str] = []
        self._blob = BlobServiceClient.from_connection_string(
            settings.storage_connection_string, raw_request_hook=lambda r: self.requests.append(r.http_request.url)
        )

    def container(self, name: str):
        return self._blob.get_container_client(name)


def seed(settings, count: int, statuses=("ok",), prefix="s") -> list[str]:
    """`count` fleet entries as the retrain and the monitor record them, statuses in rotation."""
    monitoring = container(settings.monitoring_container, settings)
    names = [f"{prefix}{i:04d}" for i in range(count)]
    checked = datetime(2026, 1, 1, tzinfo=UTC)
    for i, name in enumerate(names):
        card = {"spec": {"name": "ets"}, "metrics": {"mase": round(0.5 + i / 100, 3)}, "dataset": {"end": "2026-01-01"}}
        fleet.record_champion(monitoring, card, {"series": name, "version": f"v{i}", "promoted_at": "2026-01-01"})
        status = statuses[i % len(statuses)]
        if status != "not-checked":
            at = (checked + timedelta(minutes=i)).isoformat()
            fleet.record_check(monitoring, {"series": name, "status": status, "checked_at": at})
    return names


def test_pages_cover_every_series_once_in_order(settings):
    names = seed(settings, 23)
    service = Service(settings)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        status, body = call(service, "series", **query)
        assert status == 200 and len(body["series"]) <= 5
        seen += [e["series"] for e in body["series"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == names and pages == 5
    first = call(service, "series", limit=3)[1]["series"][0]
    assert first == {
        "series": "s0000",
        "champion": "v0",
        "model": "ets",
        "mase": 0.5,
        "data_through": "2026-01-01",
        "status": "ok",
        "checked_at": "2026-01-01T00:00:00+00:00",
        "fallback": False,
        "corrupt": None,
    }


def test_a_page_costs_one_storage_call_whatever_the_estate(settings):
    seed(settings, 120)
    service = CountingService(settings)
    status, body = call(service, "series", limit=50)
    assert status == 200 and len(body["series"]) == 50 and len(service.requests) == 1
    service.requests.clear()
    status, body = call(service, "series", limit=50, cursor=body["next_cursor"])
    assert [e["series"] for e in body["series"]][:2] == ["s0050", "s0051"] and len(service.requests) == 1


def test_prefix_and_status_filters(settings):
    seed(settings, 30, statuses=("ok", "drift", "ok", "not-checked", "decay"))
    seed(settings, 4, prefix="other-")
    service = Service(settings)
    _, body = call(service, "series", prefix="other-", limit=50)
    assert [e["series"] for e in body["series"]] == [f"other-{i:04d}" for i in range(4)]
    drifting, cursor = [], None
    while True:
        _, body = call(service, "series", status="drift", limit=2, **({"cursor": cursor} if cursor else {}))
        drifting += [e["series"] for e in body["series"]]
        assert all(e["status"] == "drift" for e in body["series"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert drifting == [f"s{i:04d}" for i in range(1, 30, 5)]
    _, body = call(service, "series", status="not-checked", prefix="s", limit=100)
    assert [e["series"] for e in body["series"]] == [f"s{i:04d}" for i in range(3, 30, 5)]


def test_a_status_page_costs_one_storage_call_and_follows_status_changes(settings):
    seed(settings, 60, statuses=("ok", "drift", "ok"))
    service = CountingService(settings)
    status, body = call(service, "series", status="drift", limit=10)
    assert status == 200 and len(body["series"]) == 10 and len(service.requests) == 1
    assert [e["series"] for e in body["series"]] == [f"s{i:04d}" for i in range(1, 30, 3)]
    monitoring = container(settings.monitoring_container, settings)
    fleet.record_check(monitoring, {"series": "s0001", "status": "ok", "checked_at": "2026-02-01T00:00:00+00:00"})
    fleet.record_champion(
        monitoring, {"spec": {"name": "arima"}}, {"series": "s0004", "version": "v9", "promoted_at": "2026-02-01"}
    )
    _, body = call(service, "series", status="drift", limit=2)
    assert [e["series"] for e in body["series"]] == ["s0004", "s0007"]
    assert (body["series"][0]["champion"], body["series"][0]["model"]) == ("v9", "arima")  # the index copy follows
    _, body = call(service, "series", status="ok", prefix="s0001", limit=5)
    assert [(e["series"], e["checked_at"]) for e in body["series"]] == [("s0001", "2026-02-01T00:00:00+00:00")]


def test_a_first_champion_is_two_writes_and_a_wrong_first_guess_still_merges(settings, monkeypatch):
    sent = count_blob_requests(monkeypatch, settings)
    monitoring = container(settings.monitoring_container, settings)
    card = {"spec": {"name": "ets"}, "metrics": {"mase": 0.9}, "dataset": {"end": "2026-01-01"}}
    fleet.record_champion(monitoring, card, {"series": "s1", "version": "v1", "promoted_at": "2026-01-01"}, first=True)
    assert [method for method, _ in sent] == ["PUT", "PUT"]  # the entry created, its not-checked copy
    assert [e.series for e in fleet.list_page(monitoring, limit=5, status="not-checked")[0]] == ["s1"]
    fleet.record_check(monitoring, {"series": "s1", "status": "drift", "checked_at": "2026-01-02T00:00:00+00:00"})
    card = {**card, "metrics": {"mase": 0.4}}
    # Guessed first, but the entry exists: it is merged, keeping the monitor's status and its index copy.
    fleet.record_champion(monitoring, card, {"series": "s1", "version": "v2", "promoted_at": "2026-01-03"}, first=True)
    entry = fleet.read_entry(monitoring, "s1")
    assert (entry.champion, entry.mase, entry.status) == ("v2", 0.4, "drift")
    drifting, _ = fleet.list_page(monitoring, limit=5, status="drift")
    assert [(e.series, e.champion, e.mase) for e in drifting] == [("s1", "v2", 0.4)]
    assert fleet.list_page(monitoring, limit=5, status="not-checked")[0] == []
    assert fleet.repair_index(monitoring, fleet.listing(monitoring, fleet.PREFIX)) == 0  # nothing out of step


def test_the_summary_repairs_the_status_index(settings):
    seed(settings, 6, statuses=("ok", "drift"))
    monitoring = container(settings.monitoring_container, settings)
    monitoring.upload_blob(fleet.status_name("drift", "s0000"), b"", metadata={"status": "drift"})  # out of step
    monitoring.delete_blob(fleet.status_name("drift", "s0003"))  # lost
    monitoring.upload_blob(fleet.entry_name("t-old"), b"", metadata={"champion": "v1"})  # written before the index
    service = Service(settings)
    drifting = ["s0000", "s0001", "s0005"]
    assert [e["series"] for e in call(service, "series", status="drift", limit=10)[1]["series"]] == drifting
    fleet.summarize(monitoring)  # the HTTP path's recount leaves the index alone
    assert [e["series"] for e in call(service, "series", status="drift", limit=10)[1]["series"]] == drifting
    fleet.summarize(monitoring, repair=True)  # the timer's
    assert [e["series"] for e in call(service, "series", status="drift", limit=10)[1]["series"]] == [
        "s0001",
        "s0003",
        "s0005",
    ]
    not_checked = call(service, "series", status="not-checked", limit=10)[1]["series"]
    assert [(e["series"], e["champion"]) for e in not_checked] == [("t-old", "v1")]
    assert fleet.repair_index(monitoring, fleet.listing(monitoring, fleet.PREFIX)) == 0  # in step now


def test_a_champion_recorded_while_the_timer_repairs_the_index_keeps_its_copy(settings, monkeypatch):
    seed(settings, 3)
    monitoring = container(settings.monitoring_container, settings)
    card = {"spec": {"name": "ets"}, "metrics": {"mase": 0.7}, "dataset": {"end": "2026-01-01"}}
    listed, calls = fleet.listing, []

    def listing_then_a_retrain_publishes(client, prefix):
        found = listed(client, prefix)
        if not calls:  # a retrain publishes between the repair's two listings
            pointer = {"series": "late", "version": "v1", "promoted_at": "2026-01-02"}
            fleet.record_champion(monitoring, card, pointer, first=True)
        calls.append(prefix)
        return found

    monkeypatch.setattr(fleet, "listing", listing_then_a_retrain_publishes)
    fleet.summarize(monitoring, repair=True)
    monkeypatch.setattr(fleet, "listing", listed)
    pending, _ = fleet.list_page(monitoring, limit=10, status="not-checked")
    assert "late" in [e.series for e in pending]
    assert fleet.repair_index(monitoring, fleet.listing(monitoring, fleet.PREFIX)) == 0


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"limit": "0"}, "from 1 to 500"),
        ({"limit": "5_0"}, "ASCII digits"),
        ({"status": "broken"}, "must be one of"),
        ({"prefix": "a/b"}, "must match"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "not a cursor"),
        ({"cursor": "a b"}, "must match"),
    ],
)
def test_bad_listing_parameters_are_400(settings, query, fragment):
    status, body = call(Service(settings), "series", **query)
    assert status == 400 and fragment in body["detail"]


def test_late_writes_never_replace_newer_ones(settings):
    monitoring = container(settings.monitoring_container, settings)
    fleet.record_check(monitoring, {"series": "a", "status": "drift", "checked_at": "2026-02-02T00:00:00+00:00"})
    fleet.record_check(monitoring, {"series": "a", "status": "ok", "checked_at": "2026-02-01T00:00:00+00:00"})
    card = {"spec": {"name": "arima"}, "metrics": {"mase": 0.7}, "dataset": {"end": "2026-02-01"}}
    fleet.record_champion(monitoring, card, {"series": "a", "version": "v2", "promoted_at": "2026-02-02T00:00:00"})
    fleet.record_champion(monitoring, card, {"series": "a", "version": "v1", "promoted_at": "2026-02-01T00:00:00"})
    entry = fleet.read_entry(monitoring, "a")
    assert (entry.status, entry.champion, entry.model, entry.mase) == ("drift", "v2", "arima", 0.7)


def test_overview_counts_alerts_and_worst_mase(settings):
    seed(settings, 12, statuses=("ok", "drift", "decay", "not-checked"))
    status, body = call(Service(settings), "fleet")
    assert status == 200
    assert body["counts"]["series"] == 12 and body["counts"]["champions"] == 12
    assert body["counts"]["by_status"] == {
        "ok": 3,
        "drift": 3,
        "decay": 3,
        "drift+decay": 0,
        "not-evaluated": 0,
        "error": 0,
        "not-checked": 3,
    }
    assert [e["series"] for e in body["alerting"]] == ["s0010", "s0009", "s0006", "s0005", "s0002", "s0001"]
    assert [e["series"] for e in body["worst_mase"]][:3] == ["s0011", "s0010", "s0009"]
    assert body["last_check"] == (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=10)).isoformat()


def test_public_health_is_one_call_of_constant_size_without_names(settings, monkeypatch):
    import shared.storage

    requests: list[str] = []
    client = BlobServiceClient.from_connection_string(
        settings.storage_connection_string, raw_request_hook=lambda r: requests.append(r.http_request.url)
    )
    monkeypatch.setattr(shared.storage, "probe_service", lambda settings, kind="blob", timeout=2.0: client)
    service = Service(settings)
    status, before = call(service, "health")
    assert status == 200 and before["status"] == "ok" and before["counts"] is None and len(requests) == 1
    names = seed(settings, 40, statuses=("ok", "drift"), prefix="series-with-a-long-identifying-name-")
    fleet.summarize(container(settings.monitoring_container, settings))
    requests.clear()
    status, body = call(service, "health")
    assert status == 200 and len(requests) == 1
    assert body["counts"]["series"] == 40 and body["counts"]["by_status"]["drift"] == 20
    assert body["counts_as_of"] and body["last_check"]
    text = json.dumps(body)
    assert not any(name in text for name in names)
    seed(settings, 400, prefix="more")
    fleet.summarize(container(settings.monitoring_container, settings))
    grown = json.dumps(call(service, "health")[1])
    assert re.sub(r"[0-9]", "", grown) == re.sub(r"[0-9]", "", text)  # only digits changed: counts, times


def test_health_names_the_missing_container(settings):
    container(settings.curated_container, settings).delete_container()
    status, body = call(Service(settings), "health")
    assert status == 503 and body["status"] == "degraded"
    assert body["storage"] == f"container {settings.curated_container} does not exist"
    container(settings.monitoring_container, settings).delete_container()
    status, body = call(Service(settings), "health")
    assert body["storage"] == f"containers {settings.curated_container}, {settings.monitoring_container} do not exist"
    status, body = call(Service(settings), "series")
    assert (status, body["error"]) == (503, "storage not set up")
    assert body["detail"] == f"container {settings.monitoring_container} does not exist"


def test_detailed_health_reports_poison_lags_and_corrupt_artifacts(settings):
    publish(settings)
    seed(settings, 3, statuses=("drift",))
    monitoring = container(settings.monitoring_container, settings)
    models = container(settings.models_container, settings)
    mark_corrupt(models, "s0001", [CorruptArtifact("s0001", "v1", "card.json", "is not JSON")], None)
    poison = queue(f"{settings.retrain_queue}-poison", settings)
    for _ in range(2):
        poison.send_message(b'{"series": "x"}')
    queue(settings.retrain_queue, settings).send_message(b'{"series": "y"}')
    fleet.summarize(monitoring)
    status, body = call(Service(settings), "health_detail")
    assert status == 200 and body["status"] == "degraded"
    assert body["poison"][f"{settings.retrain_queue}-poison"] == 2
    assert body["queues"]["webjobs-blobtrigger-poison"]["exists"] in (True, False)
    assert body["registry_lag"]["pending_retrains"] == 1
    assert body["registry_lag"]["oldest_pending_retrain_seconds"] >= 0
    assert body["corrupt_artifacts"] == {"count": 1, "series": ["s0001"]}
    assert body["last_monitor_run"] == body["monitor_lag"]["last_check"] == "2026-01-01T00:02:00+00:00"
    assert body["monitor_lag"]["seconds_since_last_check"] > 0
    assert any("2 message(s) that failed for good" in p for p in body["problems"])
    assert any("corrupt" in p for p in body["problems"])
    assert body["containers"] == dict.fromkeys(settings.containers, "ok")


def test_the_fleet_summary_timer_counts_and_repairs_the_status_index(app_env):
    import azure.functions as func

    from functions.fleet import fleet_summary

    seed(app_env, 4, statuses=("ok", "decay"))
    monitoring = container(app_env.monitoring_container, app_env)
    monitoring.delete_blob(fleet.status_name("decay", "s0001"))
    timer = func.timer.TimerRequest(past_due=False, schedule_status={}, schedule={})
    fleet_summary.build().get_user_function()(timer=timer)
    _, body = call(Service(app_env), "series", status="decay", limit=10)
    assert [e["series"] for e in body["series"]] == ["s0001", "s0003"]
    assert fleet.read_summary(monitoring)["counts"]["by_status"]["decay"] == 2
