"""FUNCTIONS_WORKER_PROCESS_COUNT: blob, queue and timer functions in worker processes, HTTP in the runner."""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceExistsError

from localrun.config import ConfigurationError
from localrun.storage import encode_message
from localrun.workers import RemoteTraceback, worker_process_count
from tests.localrun.conftest import NEVER, unique


@pytest.fixture
def worker_env(azurite) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": "localrun-tests",
        "WORK_QUEUE": unique("work"),
        "WORK_OUT_QUEUE": unique("workout"),
        "WORK_SCHEDULE": NEVER,
        "FUNCTIONS_WORKER_PROCESS_COUNT": "2",
    }


def _send(store, queue: str, body: dict) -> None:
    client = store.queue(queue)
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
    client.send_message(encode_message(json.dumps(body)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _wait_files(paths, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, f"not all of {paths} appeared in {timeout}s"
        time.sleep(0.05)


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("", 1), ("1", 1), ("2", 2), (" 10 ", 10)], ids=str)
def test_worker_count_is_the_hosts_setting_with_its_default(value, expected):
    env = {} if value is None else {"FUNCTIONS_WORKER_PROCESS_COUNT": value}
    assert worker_process_count(env) == expected


@pytest.mark.parametrize("value", ["0", "11", "two", "-1"])
def test_worker_count_outside_the_hosts_range_is_rejected(value):
    with pytest.raises(ConfigurationError, match="FUNCTIONS_WORKER_PROCESS_COUNT"):
        worker_process_count({"FUNCTIONS_WORKER_PROCESS_COUNT": value})


def test_queue_invocations_run_in_parallel_worker_processes_and_http_in_the_runner(start_runner, worker_env, store):
    runner = start_runner("worker_app", env=worker_env)
    pids = runner.worker_pids()
    assert len(pids) == 2 and os.getpid() not in pids
    for tag in ("a", "b"):
        _send(store, worker_env["WORK_QUEUE"], {"tag": tag, "sleep": 1.0})

    reports = store.wait_messages(worker_env["WORK_OUT_QUEUE"], 2, timeout=30)
    assert sorted(r["tag"] for r in reports) == ["a", "b"]
    assert {r["pid"] for r in reports} == set(pids)  # one message in each worker
    assert max(r["started"] for r in reports) < min(r["ended"] for r in reports)  # at the same time
    assert {(r["function"], r["retry_count"], r["dequeue_count"]) for r in reports} == {("work", 0, 1)}
    assert runner.wait_idle(10)
    assert runner.counter("work").processed == 2
    with urllib.request.urlopen(f"{runner.base_url}/api/pid", timeout=10) as response:
        assert json.loads(response.read())["pid"] == os.getpid()


def test_an_exception_in_a_worker_reaches_the_caller_with_its_traceback(start_runner, worker_env):
    runner = start_runner("worker_app", env=worker_env)

    with pytest.raises(ValueError, match="fails on purpose") as raised:
        runner.trigger_timer("broken_tick")

    assert str(os.getpid()) not in str(raised.value)  # raised in a worker process
    assert isinstance(raised.value.__cause__, RemoteTraceback)
    assert "in broken_tick" in str(raised.value.__cause__)
    assert runner.counter("broken_tick").failed == 1


def test_a_worker_that_dies_is_replaced_and_its_message_retried(start_runner, worker_env, store):
    runner = start_runner("worker_app", env=worker_env)
    before = set(runner.worker_pids())
    _send(store, worker_env["WORK_QUEUE"], {"tag": "crash", "exit_first": True})

    [report] = store.wait_messages(worker_env["WORK_OUT_QUEUE"], 1, timeout=30)
    assert report["dequeue_count"] == 2
    after = set(runner.worker_pids())
    assert len(after) == 2 and len(after - before) == 1  # the dead worker was replaced
    assert runner.wait_idle(10)
    counters = runner.counter("work")
    assert (counters.processed, counters.failed, counters.poisoned) == (1, 1, 0)


def test_stop_abandons_busy_workers_in_time_and_leaves_their_messages(start_runner, worker_env, store, tmp_path):
    runner = start_runner("worker_app", env=worker_env)
    pids = runner.worker_pids()
    markers = [tmp_path / f"started-{i}" for i in range(2)]
    for marker in markers:
        _send(store, worker_env["WORK_QUEUE"], {"sleep": 60, "started": str(marker)})
    _wait_files(markers)

    started = time.monotonic()
    runner.stop()
    elapsed = time.monotonic() - started

    assert elapsed < runner.stop_timeout + 2
    assert not any(_alive(pid) for pid in pids)
    assert runner.abandoned == []  # the queue trigger's threads ended with their workers
    queue = store.queue(worker_env["WORK_QUEUE"])
    assert queue.get_queue_properties().approximate_message_count == 2  # invisible, neither deleted nor failed
    assert store.peek(worker_env["WORK_QUEUE"] + "-poison") == []
    assert store.peek(worker_env["WORK_OUT_QUEUE"]) == []
    assert runner.counter("work").failed == 0
