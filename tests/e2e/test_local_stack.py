"""End to end through the real runner and real HTTP: upload → ingest → retrain → champion → forecast."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from localrun import Runner
from localrun.sample import monthly_files
from shared.cli import main as cli
from shared.storage import container
from tests.factories import wait_for

pytestmark = pytest.mark.slow
MONTHS = monthly_files()


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def stack(app_env):
    with Runner(port=0, poll_interval=0.2) as runner:
        yield runner


def upload(tmp_path, index: int) -> None:
    name, data = MONTHS[index]
    path = tmp_path / name
    path.write_bytes(data)
    assert cli(["upload", str(path)]) == 0


def champion_forecast(stack, version_not=None):
    status, body = get(f"{stack.base_url}/api/forecast?horizon=28")
    if status == 200 and body["model_version"] != version_not:
        return body
    return None


def settled_champion(stack, tmp_path) -> dict:
    """Upload the first three months, wait until every retrain is done, return the champion's forecast."""
    for index in (0, 1, 2):
        upload(tmp_path, index)
    wait_for(lambda: champion_forecast(stack))
    assert stack.wait_idle(120)
    return champion_forecast(stack)


def test_upload_to_forecast(stack, tmp_path, app_env):
    status, body = get(f"{stack.base_url}/api/forecast")
    assert status == 404 and body["error"] == "series not found"
    for index in (0, 1, 2):
        upload(tmp_path, index)
    body = wait_for(lambda: champion_forecast(stack))
    assert len(body["points"]) == 28 and body["model_version"].startswith("v")
    assert all(p["lower"] <= p["forecast"] <= p["upper"] for p in body["points"])
    assert stack.wait_idle(120)
    served = champion_forecast(stack)
    assert served["trained_through"] == "2013-09-30"
    status, fleet = get(f"{stack.base_url}/api/series")  # the retrain recorded its champion in the fleet index
    assert status == 200 and [(e["series"], e["champion"]) for e in fleet["series"]] == [
        ("total", served["model_version"])
    ]
    assert fleet["series"][0]["data_through"] == "2013-09-30"
    assert stack.counter("ingest").processed == 3


def test_forecast_keeps_answering_from_the_champion_while_a_retrain_runs(stack, tmp_path, app_env):
    first = settled_champion(stack, tmp_path)
    seen: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            status, body = get(f"{stack.base_url}/api/forecast?horizon=28")
            seen.append((status, body.get("model_version"), len(body.get("points", []))))

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        upload(tmp_path, 3)
        second = wait_for(lambda: champion_forecast(stack, version_not=first["model_version"]))
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert second["trained_through"] == "2013-10-31"
    assert len(seen) > 20
    assert {status for status, _, _ in seen} == {200}
    assert {points for _, _, points in seen} == {28}
    versions = [version for _, version, _ in seen]
    switch = versions.index(second["model_version"])
    assert set(versions[:switch]) == {first["model_version"]} and set(versions[switch:]) == {second["model_version"]}


def test_malformed_upload_through_the_runner_changes_nothing(stack, tmp_path, app_env):
    before = settled_champion(stack, tmp_path)
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"TransactionDate,PaidAmount\n2013-10-01,12\n2013-10-02,twelve\n")
    assert cli(["upload", str(bad)]) == 0
    quarantine = container(app_env.quarantine_container, app_env)
    (report_name,) = wait_for(
        lambda: [b.name for b in quarantine.list_blobs() if b.name.endswith("/broken.csv.error.json")]
    )
    report = json.loads(quarantine.download_blob(report_name).readall())
    assert report["problems"] == [{"line": 3, "column": "PaidAmount", "value": "twelve", "reason": "not a number"}]
    assert stack.wait_idle(60)
    after = champion_forecast(stack)
    assert after["model_version"] == before["model_version"]
    assert after["trained_through"] == before["trained_through"] == "2013-09-30"


def test_the_same_file_twice_makes_one_dataset_version_and_one_model_version(stack, tmp_path, app_env):
    from shared import registry
    from shared.ingest.curated import read_manifest

    settled_champion(stack, tmp_path)
    curated = container(app_env.curated_container, app_env)
    models = container(app_env.models_container, app_env)
    dataset_before = read_manifest(curated)["dataset_version"]
    versions_before = registry.list_versions(models, "total")
    again = tmp_path / "again.csv"
    again.write_bytes(MONTHS[2][1])
    assert cli(["upload", str(again)]) == 0
    wait_for(lambda: stack.counter("ingest").processed == 4)
    assert stack.wait_idle(60)
    assert read_manifest(curated)["dataset_version"] == dataset_before
    assert registry.list_versions(models, "total") == versions_before


def test_a_many_series_upload_gives_every_series_a_champion_in_worker_processes(app_env, tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd

    from shared import registry

    monkeypatch.setenv("FUNCTIONS_WORKER_PROCESS_COUNT", "2")
    rng = np.random.default_rng(7)
    days = pd.date_range("2026-01-01", periods=70, freq="D").strftime("%Y-%m-%d")
    series = [f"store{s}-sku{k}" for s in range(3) for k in range(3)]
    rows = [
        f"{sid},{day},{max(0.0, 100 + 30 * (i % 7 == 5) + rng.normal(0, 8)):.2f}"
        for sid in series
        for i, day in enumerate(days)
    ]
    path = tmp_path / "estate.csv"
    path.write_text("series_id,date,value\n" + "\n".join(rows) + "\n")

    with Runner(port=0, poll_interval=0.2) as runner:
        assert len(runner.worker_pids()) == 2
        assert cli(["upload", str(path)]) == 0
        models = container(app_env.models_container, app_env)
        wait_for(lambda: all(registry.read_champion(models, sid)[0] for sid in series), timeout=240)
        for sid in series:
            status, body = get(f"{runner.base_url}/api/forecast?series={sid}&horizon=14")
            assert status == 200 and len(body["points"]) == 14 and body["trained_through"] == "2026-03-11"
        assert runner.wait_idle(60)
        assert runner.counter("retrain").processed >= len(series)
        assert runner.counter("retrain").failed == 0
