"""The monitor on Azurite: reports, events, the webhook, cooldown, retrain requests and failure isolation."""

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import NoModelYet, SeriesNotFound
from shared.monitoring.actions import EVENT_GROUPS
from shared.monitoring.config import MonitorSettings
from shared.monitoring.report import DECAY_EVENT, DRIFT_EVENT
from shared.monitoring.service import latest_report, run_checks
from shared.monitoring.store import history_name, read_state
from shared.storage import container, queue
from tests.monitoring.builders import NOISE_SD, daily_sales, publish_champion, shifted, store_curated
from tests.monitoring.test_actions import Receiver

T0 = datetime(2024, 7, 20, 2, 30, tzinfo=UTC)
QUIET = MonitorSettings()


def setup(settings, *, shift: float = 0.0, trained_days: int = 172, series: str = "total", seed: int = 7):
    """200 days of sales (the last 28 raised by `shift`), a champion trained on the first `trained_days`."""
    y = daily_sales(days=200, seed=seed)
    if shift:
        y = shifted(y, 28, shift)
    version = publish_champion(settings, series, y.iloc[:trained_days])
    data_version = store_curated(settings, series, y)
    return version, data_version


def setup_retrained(settings, *, shift: float) -> str:
    """The last 28 days raised by `shift`, served by a champion trained before them; the current champion
    was trained on all of it (the data did not change since)."""
    y = shifted(daily_sales(days=200), 28, shift)
    publish_champion(settings, "total", y.iloc[:172])
    version = publish_champion(settings, "total", y, reason="refresh with new data")
    store_curated(settings, "total", y)
    return version


def retrain_messages(settings) -> list[dict]:
    messages = queue(settings.retrain_queue, settings).peek_messages(max_messages=32)
    return [json.loads(m.content) for m in messages]


def events(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and r.getMessage().startswith(name)]


def test_stable_series_is_ok_and_nothing_happens(settings, caplog):
    version, data_version = setup(settings)
    [report] = run_checks(settings, now=T0, monitor=QUIET)
    assert report["status"] == "ok" and report["reasons"] == []
    assert report["champion"]["version"] == version
    assert report["alert"] == {"raised": False, "top": report["alert"]["top"], "score": report["alert"]["score"]}
    assert report["why"].startswith("The last 28 days were ") and report["window"]["served"] == 28
    assert report["data"] == {
        "dataset_version": data_version,
        "last_date": "2024-07-18",
        "frequency": "D",
        "changed_since_champion": True,
    }
    assert report["drift"]["evaluated"] and report["decay"]["evaluated"]
    assert set(report["decay"]["checks"]) == {"mase_ratio", "coverage"}
    assert {"bias", "cusum_bias", "scale", "profile", "ks", "level_shift"} <= set(report["drift"]["checks"])
    assert report["actions"]["events"] == [] and not report["actions"]["retrain"]["requested"]
    assert retrain_messages(settings) == [] and not events(caplog, DRIFT_EVENT)
    assert latest_report(settings, "total") == report
    history = container(settings.monitoring_container, settings).get_blob_client(
        history_name("total", T0, report["run_id"])
    )
    assert json.loads(history.download_blob().readall()) == report


def test_drift_with_new_data_requests_exactly_one_retrain_with_the_reason(settings):
    _, data_version = setup(settings, shift=6 * NOISE_SD)
    [first] = run_checks(settings, now=T0, monitor=QUIET)
    assert first["status"] != "ok" and first["alert"]["raised"] and "Alert:" in first["why"]
    [message] = retrain_messages(settings)
    assert message == {
        "series": "total",
        "dataset_version": data_version,
        "reason": first["actions"]["retrain"]["reason"],
        "correlation_id": first["run_id"],
    }
    assert message["reason"].startswith("monitor: ") and first["run_id"] in message["reason"]
    assert first["actions"]["retrain"]["requested"]

    [again] = run_checks(settings, now=T0 + timedelta(hours=30), monitor=QUIET)  # the timer's next day
    assert again["status"] == first["status"] and not again["actions"]["retrain"]["requested"]
    assert "already requested" in again["actions"]["retrain"]["note"]
    assert len(retrain_messages(settings)) == 1


def test_a_retrain_request_that_cannot_be_sent_is_released_and_requested_on_the_next_run(settings):
    import dataclasses

    setup(settings, shift=6 * NOISE_SD)
    broken = dataclasses.replace(settings, retrain_queue="no-such-queue")  # sending fails: the queue is missing
    [first] = run_checks(broken, now=T0, monitor=QUIET)
    assert not first["actions"]["retrain"]["requested"]
    assert "could not be sent" in first["actions"]["retrain"]["note"]
    state, _ = read_state(container(settings.monitoring_container, settings), "total")
    assert state["retrain"] is None  # the claim was released
    [again] = run_checks(settings, now=T0 + timedelta(hours=30), monitor=QUIET)
    assert again["actions"]["retrain"]["requested"] and len(retrain_messages(settings)) == 1


def test_drift_without_new_data_alerts_without_retraining(settings, caplog):
    version = setup_retrained(settings, shift=6 * NOISE_SD)
    with caplog.at_level(logging.WARNING):
        [report] = run_checks(settings, now=T0, monitor=QUIET)
    assert not report["data"]["changed_since_champion"]
    assert report["alert"]["raised"]
    assert retrain_messages(settings) == []
    assert report["actions"]["retrain"] == {
        "requested": False,
        "dataset_version": None,
        "reason": None,
        "note": "the champion was trained on the current data: alert only, no retrain",
    }
    event = report["actions"]["events"][0]["event"]
    group = EVENT_GROUPS[event]
    [record] = events(caplog, event)
    dims = record.custom_dimensions
    assert dims["event"] == event and dims["series"] == "total" and dims["champion_version"] == version
    assert dims["run_id"] == report["run_id"] and dims["fired"].split(",") == report[group]["fired"]
    name = report[group]["fired"][0]
    assert dims[f"stat_{name}"] == report[group]["checks"][name]["statistic"]
    assert dims[f"threshold_{name}"] == report[group]["checks"][name]["threshold"]
    assert dims["retrain_requested"] is False
    assert {"event": event, "status": "logged", "suppressed_until": None} in report["actions"]["events"]


def test_cooldown_holds_back_repeat_alerts_and_the_webhook(settings, caplog):
    setup_retrained(settings, shift=6 * NOISE_SD)
    with Receiver() as receiver:
        monitor = MonitorSettings(cooldown_hours=24, webhook_url=receiver.url, webhook_timeout=5)
        with caplog.at_level(logging.WARNING):
            [first] = run_checks(settings, now=T0, monitor=monitor)
            [soon] = run_checks(settings, now=T0 + timedelta(hours=2), monitor=monitor)
            [later] = run_checks(settings, now=T0 + timedelta(hours=25), monitor=monitor)
    fired = [e["event"] for e in first["actions"]["events"]]
    assert fired
    assert {e["status"] for e in soon["actions"]["events"]} == {"suppressed"}
    assert all(w["status"] == "suppressed" for w in soon["actions"]["webhook"])
    assert {e["status"] for e in later["actions"]["events"]} == {"logged"}
    assert sum(len(events(caplog, e)) for e in fired) == 2 * len(fired)
    posted = [r["body"] for r in receiver.requests]
    assert [p["event"] for p in posted] == fired * 2
    assert [p["run_id"] for p in posted] == [first["run_id"]] * len(fired) + [later["run_id"]] * len(fired)
    assert {"sent"} == {w["status"] for w in first["actions"]["webhook"]}


def test_webhook_receives_the_documented_payload(settings):
    setup(settings, shift=6 * NOISE_SD)
    with Receiver() as receiver:
        monitor = MonitorSettings(webhook_url=receiver.url)
        [report] = run_checks(settings, now=T0, monitor=monitor)
    body = receiver.requests[0]["body"]
    event = body["event"]
    group = EVENT_GROUPS[event]
    checks = report[group]["checks"]
    assert body == {
        "event": event,
        "series": "total",
        "status": report["status"],
        "checked_at": T0.isoformat(),
        "run_id": report["run_id"],
        "champion_version": report["champion"]["version"],
        "fired": report[group]["fired"],
        "reasons": [r for r in report["reasons"] if r.startswith(group)],
        "statistics": {name: c["statistic"] for name, c in checks.items()},
        "thresholds": {name: c["threshold"] for name, c in checks.items()},
        "window": report["window"],
        "retrain_requested": True,
        "report": "/api/drift?series=total",
    }


def test_a_failing_webhook_does_not_fail_the_check(settings):
    setup(settings, shift=6 * NOISE_SD)
    with Receiver(status=503) as receiver:
        [report] = run_checks(settings, now=T0, monitor=MonitorSettings(webhook_url=receiver.url))
    assert report["status"] != "error" and len(retrain_messages(settings)) == 1
    assert {w["status"] for w in report["actions"]["webhook"]} == {"failed"}
    assert latest_report(settings, "total")["run_id"] == report["run_id"]


def test_decay_is_judged_on_the_forecasts_earlier_champions_served(settings):
    y = shifted(daily_sales(days=200), 28, 6 * NOISE_SD)
    before = publish_champion(settings, "total", y.iloc[:172])
    current = publish_champion(settings, "total", y, reason="refresh with new data")
    store_curated(settings, "total", y)
    [report] = run_checks(settings, now=T0, monitor=QUIET)
    assert report["champion"]["version"] == current
    assert {row["version"] for row in report["recent"]} == {before}
    assert all(row["lower_95"] <= row["mean"] <= row["upper_95"] for row in report["recent"])
    assert report["window"]["served"] == 28 and report["decay"]["checks"]["mase_ratio"]["fired"]
    assert report["status"] in ("decay", "drift+decay")


def test_concurrent_runs_request_one_retrain(settings):
    setup(settings, shift=6 * NOISE_SD)
    barrier = threading.Barrier(2)
    reports = []

    def run():
        barrier.wait()
        reports.extend(run_checks(settings, now=T0, monitor=QUIET))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 2 and len(retrain_messages(settings)) == 1
    assert sorted(r["actions"]["retrain"]["requested"] for r in reports) == [False, True]
    state, _ = read_state(container(settings.monitoring_container, settings), "total")
    assert state["retrain"]["run_id"] in {r["run_id"] for r in reports}


def test_a_failing_series_gets_an_error_report_and_the_others_are_checked(settings, caplog):
    setup(settings, series="a")
    publish_champion(settings, "b", daily_sales(days=100))  # a champion but no curated data
    reports = {r["series"]: r for r in run_checks(settings, now=T0, monitor=QUIET)}
    assert reports["a"]["status"] == "ok"
    assert reports["b"]["status"] == "error" and "no curated data" in reports["b"]["error"]
    assert latest_report(settings, "b") == reports["b"]
    assert "monitor check of series b failed" in caplog.text


def test_named_series_without_a_champion(settings):
    with pytest.raises(SeriesNotFound):
        run_checks(settings, series="ghost", monitor=QUIET)
    store_curated(settings, "fresh", daily_sales(days=30))
    with pytest.raises(NoModelYet):
        run_checks(settings, series="fresh", monitor=QUIET)
    assert latest_report(settings, "fresh") is None


def test_only_the_named_series_is_checked(settings):
    setup(settings, series="a")
    setup(settings, series="b", seed=8)
    [report] = run_checks(settings, series="b", now=T0, monitor=QUIET)
    assert report["series"] == "b" and latest_report(settings, "a") is None


def test_decay_event_is_logged_with_its_own_name(settings, caplog):
    y = shifted(daily_sales(days=200), 28, 6 * NOISE_SD)
    publish_champion(settings, "total", y.iloc[:172])
    store_curated(settings, "total", y)
    with caplog.at_level(logging.WARNING):
        [report] = run_checks(settings, now=T0, monitor=QUIET)
    assert report["decay"]["detected"]
    [record] = events(caplog, DECAY_EVENT)
    assert record.custom_dimensions["event"] == DECAY_EVENT
    assert set(record.custom_dimensions["fired"].split(",")) == set(report["decay"]["fired"])


def test_a_check_of_every_series_updates_the_fleet_index(settings):
    from shared import fleet

    setup(settings, series="a")
    setup(settings, series="b", seed=8, shift=6 * NOISE_SD)
    reports = {r["series"]: r for r in run_checks(settings, now=T0, monitor=QUIET)}
    monitoring = container(settings.monitoring_container, settings)
    a, b = fleet.read_entry(monitoring, "a"), fleet.read_entry(monitoring, "b")
    assert (a.status, a.checked_at) == ("ok", T0.isoformat())
    assert b.status == reports["b"]["status"] and b.status in ("drift", "decay", "drift+decay")
    summary = fleet.summarize(monitoring, now=T0)
    assert summary["counts"]["series"] == 2 and summary["counts"]["by_status"]["ok"] == 1
    assert [e["series"] for e in summary["alerting"]] == ["b"]
