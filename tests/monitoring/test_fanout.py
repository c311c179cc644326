"""The monitor fanned out: the timer enqueues batches, each series is checked once per run, the fleet index."""

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import azure.functions as func
import pytest

from shared import fleet
from shared.monitoring.config import MonitorSettings, get_monitor_settings
from shared.monitoring.fanout import enqueue_checks, handle_request, run_key
from shared.monitoring.service import latest_report
from shared.monitoring.store import save_report
from shared.storage import container, queue
from tests.monitoring.builders import daily_sales, publish_champion, store_curated

T0 = datetime(2024, 7, 20, 2, 30, tzinfo=UTC)
QUIET = MonitorSettings()
SERIES = [f"store-{i}" for i in range(5)]


def publish(settings, names=SERIES):
    for i, name in enumerate(names):
        y = daily_sales(days=200, seed=i)
        publish_champion(settings, name, y.iloc[:172])
        store_curated(settings, name, y)


def requests(settings) -> list[dict]:
    client = queue(settings.monitor_queue, settings)
    return [json.loads(m.content) for m in client.peek_messages(max_messages=32)]


def history(settings, series: str) -> list[str]:
    client = container(settings.monitoring_container, settings)
    return [b.name for b in client.list_blobs(name_starts_with=f"{series}/reports/")]


def test_the_fan_out_checks_every_series_exactly_once_per_run(settings):
    publish(settings)
    summary = enqueue_checks(settings, now=T0, batch_size=2)
    assert summary == {"run": run_key(T0), "series": 5, "requests": 3}
    bodies = requests(settings)
    assert sorted(name for body in bodies for name in body["series"]) == SERIES
    assert {body["run"] for body in bodies} == {"20240720T023000Z"} and max(len(b["series"]) for b in bodies) == 2

    checked = [r["series"] for body in bodies for r in handle_request(body, settings, now=T0, monitor=QUIET)]
    again = [r["series"] for r in handle_request(bodies[0], settings, now=T0, monitor=QUIET)]  # delivered twice
    assert sorted(checked) == SERIES and again == []
    for name in SERIES:
        report = latest_report(settings, name)
        assert report["run_key"] == run_key(T0) and report["status"] == "ok", report["why"]
        assert len(history(settings, name)) == 1

    # the next run checks every series again, once
    later = T0 + timedelta(days=1)
    enqueue_checks(settings, now=later, batch_size=2)
    fresh = [body for body in requests(settings) if body["run"] == run_key(later)]
    checked = [r["series"] for body in fresh for r in handle_request(body, settings, now=later, monitor=QUIET)]
    assert sorted(checked) == SERIES and all(len(history(settings, n)) == 2 for n in SERIES)

    monitoring = container(settings.monitoring_container, settings)
    entries = {name: fleet.read_entry(monitoring, name) for name in SERIES}
    assert {e.status for e in entries.values()} == {"ok"}
    assert {e.checked_at for e in entries.values()} == {later.isoformat()}
    summary = fleet.summarize(monitoring, now=later)
    assert summary["counts"]["series"] == 5 and summary["counts"]["by_status"]["ok"] == 5
    assert summary["last_check"] == later.isoformat() and summary["alerting"] == []


@pytest.mark.parametrize(
    "body",
    [{"series": ["a"]}, {"run": "r", "series": []}, {"run": "r", "series": "a"}, ["r"]],
)
def test_a_malformed_request_is_refused(settings, body):
    with pytest.raises(ValueError, match="monitor check request"):
        handle_request(body, settings, now=T0, monitor=QUIET)


def test_a_series_whose_check_fails_gets_an_error_report_and_the_batch_goes_on(settings):
    publish(settings, SERIES[:1])
    publish_champion(settings, "ghost", daily_sales(days=100))  # a champion but no curated data
    reports = handle_request({"run": "r1", "series": ["ghost", SERIES[0]]}, settings, now=T0, monitor=QUIET)
    assert [r["status"] for r in reports] == ["error", "ok"]
    monitoring = container(settings.monitoring_container, settings)
    assert fleet.read_entry(monitoring, "ghost").status == "error"
    assert fleet.read_entry(monitoring, SERIES[0]).status == "ok"
    assert fleet.summarize(monitoring, now=T0)["counts"]["by_status"]["error"] == 1


def test_concurrent_batches_keep_every_series_in_the_fleet_index(settings):
    """Sixteen writers at once: eight batches store reports while the retrain records the same series' champions."""
    client = container(settings.monitoring_container, settings)
    barrier = threading.Barrier(16)
    errors = []

    def check(i: int) -> None:
        report = {
            "series": f"s{i}",
            "run_id": f"run-{i:04d}",
            "status": "drift" if i % 2 else "ok",
            "checked_at": (T0 + timedelta(minutes=i)).isoformat(),
            "run_key": "r",
            "alert": {"raised": bool(i % 2), "top": "bias", "score": float(i)},
            "why": f"why {i}",
        }
        barrier.wait()
        try:
            save_report(client, report, T0 + timedelta(minutes=i))
        except Exception as exc:  # surfaced below: a lost write must fail the test
            errors.append(exc)

    def promote(i: int) -> None:
        card = {"spec": {"name": "ets"}, "metrics": {"mase": 1.0 + i}, "dataset": {"end": "2024-07-01"}}
        pointer = {"series": f"s{i}", "version": f"v{i}", "promoted_at": T0.isoformat()}
        barrier.wait()
        fleet.record_champion(client, card, pointer)

    threads = [threading.Thread(target=f, args=(i,)) for i in range(8) for f in (check, promote)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = [fleet.read_entry(client, f"s{i}") for i in range(8)]
    assert [(e.status, e.champion, e.mase) for e in entries] == [
        ("drift" if i % 2 else "ok", f"v{i}", 1.0 + i) for i in range(8)
    ]
    summary = fleet.summarize(client, now=T0 + timedelta(hours=1))
    assert summary["counts"]["series"] == 8 and summary["counts"]["champions"] == 8
    assert summary["counts"]["by_status"]["ok"] == 4 and summary["counts"]["by_status"]["drift"] == 4
    assert [e["series"] for e in summary["alerting"]] == ["s7", "s5", "s3", "s1"]
    assert summary["last_check"] == (T0 + timedelta(minutes=7)).isoformat()


@pytest.fixture
def mon_env(app_env, settings, monkeypatch):
    monkeypatch.setenv("MONITOR_QUEUE", settings.monitor_queue)
    monkeypatch.setenv("DRIFT_COOLDOWN_HOURS", "1")
    from shared.settings import get_settings

    get_settings.cache_clear()
    get_monitor_settings.cache_clear()
    yield settings
    get_settings.cache_clear()
    get_monitor_settings.cache_clear()


def test_the_timer_only_enqueues_and_the_queue_function_checks(mon_env, caplog):
    from functions.monitor import monitor
    from functions.monitor_check import monitor_check

    publish(mon_env, SERIES[:2])
    timer = func.timer.TimerRequest(past_due=True, schedule_status={}, schedule={})
    with caplog.at_level(logging.INFO):
        monitor.build().get_user_function()(timer=timer)
    assert "past due" in caplog.text and "2 series in 1 check requests" in caplog.text
    assert latest_report(mon_env, SERIES[0]) is None  # the timer checked nothing itself
    [message] = queue(mon_env.monitor_queue, mon_env).receive_messages(max_messages=1)
    msg = func.queue.QueueMessage(id=message.id, body=message.content, dequeue_count=1)
    monitor_check.build().get_user_function()(msg=msg)
    assert {latest_report(mon_env, n)["status"] for n in SERIES[:2]} == {"ok"}
