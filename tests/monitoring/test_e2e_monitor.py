"""End to end through the local runner: a stable trending series stays quiet; a month whose sales halve alerts
once, with the why, and requests one retrain; a second run inside the cooldown does neither; failing requests end
in poison."""

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from localrun import Runner
from shared import registry
from shared.cli import main as cli
from shared.monitoring.config import get_monitor_settings
from shared.monitoring.fanout import run_key
from shared.monitoring.service import latest_report
from shared.storage import container, queue
from tests.factories import wait_for

pytestmark = pytest.mark.slow
NEVER = "0 0 0 1 1 *"  # the schedule stays quiet; the test runs the timer with trigger_timer
BREAK = 0.5  # the month after the champion was trained sells half as much (the bench's break)


@pytest.fixture
def monitor_env(app_env, monkeypatch):
    monkeypatch.setenv("DRIFT_SCHEDULE", NEVER)
    get_monitor_settings.cache_clear()
    yield app_env
    get_monitor_settings.cache_clear()


def upload(tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert cli(["upload", str(path)]) == 0


def champion_card(settings, series: str = "total"):
    models = container(settings.models_container, settings)
    pointer, _ = registry.read_champion(models, series)
    return registry.read_card(models, series, pointer["version"]) if pointer else None


def run_monitor(runner) -> None:
    """The timer's run, then its check requests processed by the queue function.

    A run is keyed by the timer's UTC second, so this returns only once the next call would be a new run.
    """
    started = run_key(datetime.now(UTC))
    runner.trigger_timer("monitor")
    assert runner.wait_idle(120)
    wait_for(lambda: run_key(datetime.now(UTC)) != started)


def trending_csv(days: int, seed: int = 5) -> list[str]:
    """Daily sales growing 50% a year with a weekly pattern and 8% noise, as date,value rows."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2023-01-02", periods=days, freq="D")
    weekly = np.array([0.15, 0.1, 0.05, 0.0, 0.1, -0.25, -0.15])
    t = np.arange(days)
    values = 1000 * 1.5 ** (t / 365) * (1 + weekly[index.day_of_week]) * (1 + rng.normal(0, 0.08, days))
    return [f"{d.date().isoformat()},{v:.2f}" for d, v in zip(index, values, strict=True)]


def test_a_stable_trending_series_stays_quiet(monitor_env, tmp_path):
    settings = monitor_env
    rows = trending_csv(330)
    with Runner(port=0, poll_interval=0.2) as runner:
        upload(tmp_path, "first.csv", ("date,value\n" + "\n".join(rows[:300]) + "\n").encode())
        wait_for(lambda: (champion_card(settings) or {}).get("dataset", {}).get("end") == rows[299][:10], timeout=120)
        upload(tmp_path, "second.csv", ("date,value\n" + "\n".join(rows[300:]) + "\n").encode())
        wait_for(lambda: (champion_card(settings) or {}).get("dataset", {}).get("end") == rows[-1][:10], timeout=120)
        assert runner.wait_idle(120)
        run_monitor(runner)
    report = latest_report(settings, "total")
    assert report["window"]["served"] == 28  # every window day was served by the first champion
    assert report["status"] == "ok" and not report["alert"]["raised"], report["why"]
    assert report["thresholds"].endswith("; class D")  # 330 days of history, not counts
    assert report["why"].startswith("The last 28 days were ") and "Within what it expected" in report["why"]
    assert report["actions"]["events"] == [] and not report["actions"]["retrain"]["requested"]


def test_a_failing_check_request_ends_in_poison(monitor_env):
    settings = monitor_env
    requests = queue(settings.monitor_queue, settings)
    requests.send_message(json.dumps({"run": "r1", "series": "not a list"}).encode())
    with Runner(port=0, poll_interval=0.2) as runner:
        wait_for(lambda: runner.counter("monitor_check").poisoned == 1, timeout=180)
        assert runner.counter("monitor_check").failed == 5
    poisoned = queue(f"{settings.monitor_queue}-poison", settings).peek_messages(max_messages=5)
    assert [json.loads(m.content)["run"] for m in poisoned] == ["r1"]


def test_a_halved_month_alerts_once_and_the_retrain_it_requests_makes_a_new_version(monitor_env, tmp_path):
    settings = monitor_env
    retrain_queue = queue(settings.retrain_queue, settings)
    rows = trending_csv(330, seed=6)
    halved = [f"{row[:10]},{float(row[11:]) * BREAK:.2f}" for row in rows[300:]]

    # Ten months of stable growth make the champion; the monitor finds nothing.
    with Runner(port=0, poll_interval=0.2) as runner:
        upload(tmp_path, "first.csv", ("date,value\n" + "\n".join(rows[:300]) + "\n").encode())
        wait_for(lambda: (champion_card(settings) or {}).get("dataset", {}).get("end") == rows[299][:10], timeout=120)
        assert runner.wait_idle(120)
        run_monitor(runner)
    normal = latest_report(settings, "total")
    assert not normal["alert"]["raised"], normal["why"]
    first = champion_card(settings)

    # The next month's sales halve, and the upload's own retrain request is lost.
    with Runner(port=0, poll_interval=0.2, env={"AzureWebJobs.retrain.Disabled": "true"}) as runner:
        upload(tmp_path, "second.csv", ("date,value\n" + "\n".join(halved) + "\n").encode())
        wait_for(lambda: runner.counter("ingest").processed == 1)
        assert runner.wait_idle(60)
        retrain_queue.clear_messages()
        run_monitor(runner)
        report = latest_report(settings, "total")
        run_monitor(runner)  # the next run, inside the 24-hour cooldown
        again = latest_report(settings, "total")
    assert report["alert"]["raised"] and report["status"] != "ok", report["why"]
    assert report["why"].startswith("The last 28 days were ") and "below what the champion forecast" in report["why"]
    assert "Alert:" in report["why"] and report["alert"]["top"] in report["why"]
    assert report["champion"]["version"] == first["version"] and report["data"]["changed_since_champion"]
    assert {k: report["window"][k] for k in ("end", "points", "served")} == {
        "end": rows[-1][:10],
        "points": 28,
        "served": 28,
    }
    assert report["actions"]["retrain"]["requested"]
    assert [e["status"] for e in report["actions"]["events"]] == ["logged"] * len(report["actions"]["events"])
    assert again["run_id"] != report["run_id"] and again["alert"]["raised"]
    assert {e["status"] for e in again["actions"]["events"]} == {"suppressed"}
    assert not again["actions"]["retrain"]["requested"] and "already requested" in again["actions"]["retrain"]["note"]
    [message] = [json.loads(m.content) for m in retrain_queue.peek_messages(max_messages=32)]
    assert message["reason"] == report["actions"]["retrain"]["reason"]
    assert message["correlation_id"] == report["run_id"]

    # The retrain it requested makes a new version trained through the halved month; the monitor does not ask again.
    with Runner(port=0, poll_interval=0.2) as runner:
        card = wait_for(lambda: (c := champion_card(settings)) and c["version"] != first["version"] and c, timeout=120)
        assert runner.wait_idle(120)
        run_monitor(runner)
    assert card["dataset"]["end"] == rows[-1][:10] and card["dataset"]["version"] == report["data"]["dataset_version"]
    assert card["reason"] == report["actions"]["retrain"]["reason"] and card["correlation_id"] == report["run_id"]
    after = latest_report(settings, "total")
    assert after["champion"]["version"] == card["version"] and not after["data"]["changed_since_champion"]
    assert not after["actions"]["retrain"]["requested"]
    assert list(retrain_queue.peek_messages(max_messages=32)) == []
