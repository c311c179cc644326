"""End to end through the local runner: normal months, then a month with a level shift, the monitor, the retrain."""

import json

import pytest

from localrun import Runner
from localrun.sample import monthly_files
from shared import registry
from shared.cli import main as cli
from shared.monitoring.config import get_monitor_settings
from shared.monitoring.service import latest_report
from shared.storage import container, queue
from tests.factories import wait_for

pytestmark = pytest.mark.slow
MONTHS = monthly_files()
NEVER = "0 0 0 1 1 *"  # the schedule stays quiet; the test runs the timer with trigger_timer
SHIFT = 450.0  # about one standard deviation of the sample's daily sales around their weekday means


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


def shifted_month(index: int, by: float) -> tuple[str, bytes]:
    name, data = MONTHS[index]
    header, *rows = data.decode().splitlines()
    moved = [f"{day},{float(value) + by!r}" for day, value in (row.split(",") for row in rows)]
    return name, ("\n".join([header, *moved]) + "\n").encode()


def champion_card(settings):
    models = container(settings.models_container, settings)
    pointer, _ = registry.read_champion(models, "total")
    return registry.read_card(models, "total", pointer["version"]) if pointer else None


def test_level_shift_is_reported_and_the_retrain_it_requests_makes_a_new_version(monitor_env, tmp_path):
    settings = monitor_env
    retrain_queue = queue(settings.retrain_queue, settings)

    # Normal months: August to December 2013 make the champion; the monitor finds nothing.
    with Runner(port=0, poll_interval=0.2) as runner:
        for index in range(6):
            upload(tmp_path, *MONTHS[index])
        wait_for(lambda: (champion_card(settings) or {}).get("dataset", {}).get("end") == "2013-12-31")
        assert runner.wait_idle(120)
        runner.trigger_timer("monitor")
    normal = latest_report(settings, "total")
    assert normal["status"] == "ok", normal["reasons"]
    assert normal["window"] == {"start": "2013-12-04", "end": "2013-12-31", "points": 28}
    first = champion_card(settings)

    # January arrives one standard deviation higher, and the upload's own retrain request is lost.
    with Runner(port=0, poll_interval=0.2, env={"AzureWebJobs.retrain.Disabled": "true"}) as runner:
        upload(tmp_path, *shifted_month(6, SHIFT))
        wait_for(lambda: runner.counter("ingest").processed == 1)
        assert runner.wait_idle(60)
        retrain_queue.clear_messages()
        runner.trigger_timer("monitor")
    report = latest_report(settings, "total")
    assert "level_shift" in report["drift"]["fired"], report["drift"]
    assert report["champion"]["version"] == first["version"] and report["data"]["changed_since_champion"]
    assert report["window"] == {"start": "2014-01-04", "end": "2014-01-31", "points": 28}
    assert report["actions"]["retrain"]["requested"]
    [message] = [json.loads(m.content) for m in retrain_queue.peek_messages(max_messages=32)]
    assert message["reason"] == report["actions"]["retrain"]["reason"]
    assert message["correlation_id"] == report["run_id"]

    # The retrain it requested makes a new version trained through January; the monitor does not ask again.
    with Runner(port=0, poll_interval=0.2) as runner:
        card = wait_for(lambda: (c := champion_card(settings)) and c["version"] != first["version"] and c)
        assert runner.wait_idle(120)
        runner.trigger_timer("monitor")
    assert card["dataset"]["end"] == "2014-01-31" and card["dataset"]["version"] == report["data"]["dataset_version"]
    assert card["reason"] == report["actions"]["retrain"]["reason"] and card["correlation_id"] == report["run_id"]
    after = latest_report(settings, "total")
    assert after["champion"]["version"] == card["version"] and not after["data"]["changed_since_champion"]
    assert not after["actions"]["retrain"]["requested"]
    assert list(retrain_queue.peek_messages(max_messages=32)) == []
