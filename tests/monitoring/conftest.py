"""Monitor tests own their check-request queue too (the shared settings fixture names the others)."""

import dataclasses
import uuid

import pytest

from shared.storage import queue


@pytest.fixture
def settings(settings):
    """The test's settings with a check-request queue (and its poison queue) of its own."""
    value = dataclasses.replace(settings, monitor_queue=f"monreq-{uuid.uuid4().hex[:10]}")
    for name in (value.monitor_queue, f"{value.monitor_queue}-poison"):
        queue(name, value).create_queue()
    return value
