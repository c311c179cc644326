"""Timer trigger through the runner: schedule from a setting, trigger_timer, admin endpoint, past due."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime

import pytest

from localrun.config import ConfigurationError
from localrun.timer_trigger import Schedule


def test_timer_runs_on_its_schedule_from_a_setting(start_runner, sample_env, store):
    runner = start_runner(env={**sample_env, "SAMPLE_SCHEDULE": "*/1 * * * * *"})

    runs = store.wait_messages(sample_env["SAMPLE_TIMER_QUEUE"], 2, timeout=6)
    assert len(runs) >= 2
    assert all(run["past_due"] is False for run in runs)
    assert {"Last", "Next", "LastUpdated"} <= set(runs[0]["status"])
    assert runner.counter("tick").processed >= 2


def test_trigger_timer_runs_it_now(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)

    runner.trigger_timer("tick")

    [run] = store.wait_messages(sample_env["SAMPLE_TIMER_QUEUE"], 1, timeout=2)
    assert run["past_due"] is False
    assert runner.counter("tick").processed == 1
    with pytest.raises(KeyError, match="on_blob"):
        runner.trigger_timer("on_blob")


def test_admin_endpoint_runs_a_timer(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    request = urllib.request.Request(f"{runner.base_url}/admin/functions/tick", data=b"{}", method="POST")

    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 202

    assert len(store.wait_messages(sample_env["SAMPLE_TIMER_QUEUE"], 1, timeout=5)) == 1


def test_run_after_a_long_run_is_past_due(start_runner, sample_env, store):
    env = {k: v for k, v in sample_env.items() if k != "AzureWebJobs.slow_tick.Disabled"}
    start_runner(env=env)  # slow_tick runs on startup for 2.2 s while its every-second schedule comes due

    runs = store.wait_messages(sample_env["SAMPLE_TIMER_QUEUE"], 2, timeout=8)
    assert [run["past_due"] for run in runs[:2]] == [False, True]


def test_ncrontab_has_six_fields_with_seconds_first():
    schedule = Schedule("30 */5 * * * *", "test")
    assert schedule.next_after(datetime(2026, 1, 1, 10, 1, tzinfo=UTC)) == datetime(2026, 1, 1, 10, 5, 30, tzinfo=UTC)
    assert Schedule("00:00:15", "test").next_after(datetime(2026, 1, 1, tzinfo=UTC)).second == 15


@pytest.mark.parametrize("expression", ["*/5 * * * *", "61 * * * * *", "00:00:00"])
def test_bad_schedules_are_rejected(expression):
    with pytest.raises(ConfigurationError, match="schedule"):
        Schedule(expression, "function 'tick'")


def test_five_field_schedule_stops_the_runner_from_starting(start_runner, sample_env):
    with pytest.raises(ConfigurationError, match="6 fields"):
        start_runner(env={**sample_env, "SAMPLE_SCHEDULE": "0 * * * *"})
