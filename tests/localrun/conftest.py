"""Fixtures for the local runner tests: the test apps, unique storage names per test, runners that stop."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import QueueClient

from localrun.runner import Runner
from localrun.storage import decode_message

APPS = Path(__file__).resolve().parent / "apps"
HOST_ID = "localrun-tests"
NEVER = "0 0 0 1 1 *"  # once a year: the tick timer stays quiet unless a test schedules it


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sample_env(azurite) -> dict[str, str]:
    """App settings for sample_app with containers and queues that belong to this test only."""
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": HOST_ID,
        "SAMPLE_IN_CONTAINER": unique("in"),
        "SAMPLE_OUT_CONTAINER": unique("out"),
        "SAMPLE_QUEUE": unique("q"),
        "SAMPLE_OUT_QUEUE": unique("qout"),
        "SAMPLE_RETURN_QUEUE": unique("qret"),
        "SAMPLE_TIMER_QUEUE": unique("tq"),
        "SAMPLE_SCHEDULE": NEVER,
        "AzureWebJobs.slow_tick.Disabled": "true",
    }


@pytest.fixture
def start_runner() -> Iterator[Callable[..., Runner]]:
    """Start runners on free ports with fast polling; every one is stopped after the test."""
    runners: list[Runner] = []

    def start(app: str = "sample_app", env: dict[str, str] | None = None) -> Runner:
        runner = Runner(app, APPS, port=0, poll_interval=0.1, env=env)
        runners.append(runner)
        return runner.start()

    yield start
    for runner in runners:
        runner.stop()


class Store:
    """Direct storage access for assertions, on the test's Azurite."""

    def __init__(self, connection_string: str) -> None:
        self.connection_string = connection_string
        self.blobs = BlobServiceClient.from_connection_string(connection_string)

    def container(self, name: str) -> ContainerClient:
        return self.blobs.get_container_client(name)

    def queue(self, name: str) -> QueueClient:
        return QueueClient.from_connection_string(self.connection_string, name)

    def peek(self, queue: str) -> list[str]:
        """Bodies of the messages in a queue (base64-decoded), without taking them."""
        client = self.queue(queue)
        try:
            if not client.get_queue_properties().approximate_message_count:
                return []
        except ResourceNotFoundError:
            return []
        return [decode_message(m.content).decode() for m in client.peek_messages(max_messages=32)]

    def peek_raw(self, queue: str) -> list[str]:
        return [m.content for m in self.queue(queue).peek_messages(max_messages=32)]

    def wait_messages(self, queue: str, count: int, timeout: float = 10.0) -> list[dict]:
        """JSON bodies of at least `count` messages, waiting for them up to timeout."""
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.peek(queue)
            if len(bodies) >= count or time.monotonic() > deadline:
                return [json.loads(b) for b in bodies]
            time.sleep(0.05)


@pytest.fixture
def store(azurite) -> Store:
    return Store(azurite.connection_string)
