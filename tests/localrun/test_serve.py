"""`python -m localrun serve` as a real process: storage set up on empty Azurite, SIGTERM with work in flight."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from localrun.azurite import Azurite, free_port
from localrun.runner import REPO_ROOT
from localrun.storage import encode_message
from shared.settings import settings_from_env
from tests.localrun.conftest import APPS, NEVER, unique

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)
STOP_BOUND_SECONDS = 5.0  # the runner's promise; the checks below leave room for a loaded machine


def _serve(args: list[str], env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "localrun", "serve", "--port", str(port), "--poll-interval", "0.1", *args]
    log = (tmp_path / "serve.log").open("wb")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def _wait_http(process: subprocess.Popen, url: str, tmp_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{(tmp_path / 'serve.log').read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {timeout}s")


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _worker_processes(pid: int) -> list[int]:
    """Children of the runner that are worker processes (multiprocessing's resource tracker is not)."""
    return [c for c in _children(pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pids: list[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"processes {[p for p in pids if _alive(p)]} outlived the runner"
        time.sleep(0.05)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _wait_files(paths: list[Path], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, f"only {[p.name for p in paths if p.exists()]} started in {timeout}s"
        time.sleep(0.05)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_stops_serve_in_time_with_requests_in_flight_and_workers_busy(
    azurite, store, tmp_path, workers, record_property
):
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": "localrun-tests",
        "WORK_QUEUE": unique("work"),
        "WORK_OUT_QUEUE": unique("workout"),
        "WORK_SCHEDULE": NEVER,
        "FUNCTIONS_WORKER_PROCESS_COUNT": workers,
    }
    args = ["--settings", str(tmp_path / "absent.json"), "--app", "worker_app", "--app-dir", str(APPS)]
    process, base = _serve([*args, "--no-create-storage"], env, tmp_path)
    try:
        _wait_http(process, f"{base}/api/pid", tmp_path)
        worker_pids = _worker_processes(process.pid)
        assert len(worker_pids) == (2 if workers == "2" else 0)
        children = _children(process.pid)
        queue = store.queue(env["WORK_QUEUE"])
        busy = [tmp_path / f"message-{i}" for i in range(2)]
        for marker in busy:
            queue.send_message(encode_message(json.dumps({"sleep": 120, "started": str(marker)})))
        requests = [tmp_path / f"request-{i}" for i in range(4)]
        answers: list[object] = []

        def call(marker: Path) -> None:
            try:
                with urllib.request.urlopen(f"{base}/api/pid?sleep=120&started={marker}", timeout=60) as response:
                    answers.append(response.status)
            except (urllib.error.URLError, ConnectionError) as exc:
                answers.append(type(exc).__name__)

        callers = [threading.Thread(target=call, args=(m,), daemon=True) for m in requests]
        for caller in callers:
            caller.start()
        _wait_files(busy + requests)

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        elapsed = time.monotonic() - started
    finally:
        _stop(process)

    record_property("stop_seconds", round(elapsed, 2))
    log.info("serve with FUNCTIONS_WORKER_PROCESS_COUNT=%s stopped %.2fs after SIGTERM", workers, elapsed)
    assert code == 0
    assert elapsed <= STOP_BOUND_SECONDS * 2  # generous for a loaded machine; the measured time is printed
    _wait_gone(children)  # no worker (nor multiprocessing's resource tracker) left behind
    for caller in callers:
        caller.join(10)
    assert len(answers) == 4 and 200 not in answers  # the 120 s requests were cut, not answered
    assert queue.get_queue_properties().approximate_message_count == 2  # abandoned as in a crash: not lost
    assert store.peek(env["WORK_QUEUE"] + "-poison") == []


def test_serve_on_empty_storage_creates_it_and_ingests_the_first_upload(tmp_path):
    from localrun.sample import monthly_files

    emulator = Azurite.on_free_ports().start()  # empty: no container, no queue
    try:
        env = {"AzureWebJobsStorage": emulator.connection_string, "INGEST_TRIGGER_SOURCE": "LogsAndContainerScan"}
        settings = settings_from_env(env)
        process, base = _serve(["--settings", str(REPO_ROOT / "local.settings.sample.json")], env, tmp_path)
        try:
            _wait_http(process, f"{base}/api/health", tmp_path)
            from azure.storage.blob import BlobServiceClient
            from azure.storage.queue import QueueServiceClient

            blobs = BlobServiceClient.from_connection_string(emulator.connection_string)
            assert set(settings.containers) <= {c.name for c in blobs.list_containers()}
            queues = {
                q.name for q in QueueServiceClient.from_connection_string(emulator.connection_string).list_queues()
            }
            assert settings.retrain_queue in queues

            name, data = monthly_files()[1]  # a month of daily totals
            upload = tmp_path / name
            upload.write_bytes(data)
            cli = [sys.executable, "-m", "shared.cli", "upload", str(upload)]
            subprocess.run(cli, env={**os.environ, **env}, cwd=tmp_path, check=True, capture_output=True)

            from shared.ingest.curated import read_series

            curated = blobs.get_container_client(settings.curated_container)
            deadline = time.monotonic() + 60
            while (stored := read_series(curated, "total")) is None:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
                time.sleep(0.2)
            assert len(stored.days) == data.count(b"\n") - 1 > 20
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/forecast?horizon=7", timeout=10) as response:
                        assert len(json.loads(response.read())["points"]) == 7
                        break
                except urllib.error.HTTPError as exc:
                    assert exc.code in (404, 503) and time.monotonic() < deadline
                    time.sleep(0.5)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                assert process.wait(timeout=10) == 0
            finally:
                _stop(process)
    finally:
        emulator.stop()
