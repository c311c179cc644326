"""The registry-sync queue function through the local runner: a change that cannot be synced ends in poison."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from localrun.runner import Runner
from shared.storage import ensure_resources, queue
from tests.conftest import make_settings
from tests.factories import wait_for

APPS = Path(__file__).resolve().parent / "apps"


@pytest.fixture
def runner():
    started: list[Runner] = []

    def start(env: dict[str, str]) -> Runner:
        instance = Runner("mirror_app", APPS, port=0, poll_interval=0.1, env=env)
        started.append(instance)
        return instance.start()

    yield start
    for instance in started:
        instance.stop()


def test_a_change_that_keeps_failing_is_retried_then_kept_in_the_poison_queue(azurite, runner):
    settings = make_settings(azurite.connection_string, registry_outbox_queue=f"outbox-{uuid.uuid4().hex[:10]}")
    ensure_resources(settings)
    # No workspace is configured for this app: every attempt fails with a configuration error.
    env = {**settings.as_env(), "AzureFunctionsWebHost__hostid": "azureml-tests"}
    change = {"series": "total", "version": "v1", "changed_at": "2026-01-01T00:00:00+00:00", "reason": "first model"}
    queue(settings.registry_outbox_queue, settings).send_message(json.dumps(change).encode())
    started = runner(env)
    poison = queue(f"{settings.registry_outbox_queue}-poison", settings)
    [kept] = wait_for(lambda: list(poison.peek_messages(max_messages=5)), timeout=30)
    assert json.loads(kept.content) == change
    counters = started.counter("registry-sync")
    assert (counters.failed, counters.poisoned) == (3, 1)
    assert queue(settings.registry_outbox_queue, settings).get_queue_properties().approximate_message_count == 0
