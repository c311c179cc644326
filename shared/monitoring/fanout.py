"""The monitor fanned out: the timer enqueues check requests per batch of series, a queue trigger checks them.

A request is `{"run": run key, "series": [names], "requested_at": ISO time}` on the MONITOR_QUEUE queue
(default `monitor-requests`). The run key is the timer's run (its UTC second), so a request delivered
twice, or a batch retried after some of its series were checked, checks each series once per run: a
series whose latest report already carries the run key is skipped. A request that keeps failing (storage
unreachable, a malformed body) goes to `monitor-requests-poison` after the host's maxDequeueCount; one
series failing its check gets an error report and does not fail the batch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError

from shared.registry import list_series
from shared.settings import Settings, get_settings
from shared.storage import container, queue

from .config import MonitorSettings, get_monitor_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 50  # series per check request: about 5 s of checking, well under any timeout
SEND_THREADS = 8  # concurrent enqueues of one timer run


def run_key(now: datetime) -> str:
    """The key of a monitor run: the UTC second the timer ran."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def batches(names: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]


def enqueue_checks(settings: Settings | None = None, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """The timer's whole run: one check request per batch of series with a champion; returns a summary."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    key = run_key(now)
    names = list_series(container(settings.models_container, settings))
    client = queue(settings.monitor_queue, settings)
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
    messages = [
        json.dumps({"run": key, "series": chunk, "requested_at": now.isoformat()}).encode()
        for chunk in batches(names, batch_size)
    ]
    with ThreadPoolExecutor(SEND_THREADS) as pool:
        list(pool.map(client.send_message, messages))
    log.info("monitor run %s: %d series in %d check requests", key, len(names), len(messages))
    return {"run": key, "series": len(names), "requests": len(messages)}


def parse_request(body: dict) -> tuple[str, list[str]]:
    """The run key and series of a check request; ValueError names what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("a monitor check request is a JSON object")
    run, names = body.get("run"), body.get("series")
    if not isinstance(run, str) or not run:
        raise ValueError("a monitor check request needs its run key in 'run'")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError("a monitor check request needs a non-empty list of series names in 'series'")
    return run, names


def handle_request(
    body: dict,
    settings: Settings | None = None,
    now: datetime | None = None,
    monitor: MonitorSettings | None = None,
) -> list[dict]:
    """Check every series of one request not yet checked in its run (each report lands in the fleet index)."""
    from .service import check_one
    from .store import read_latest

    settings = settings or get_settings()
    monitor = monitor or get_monitor_settings()
    now = now or datetime.now(UTC)
    key, names = parse_request(body)
    monitoring = container(settings.monitoring_container, settings)
    reports = []
    for name in names:
        latest = read_latest(monitoring, name)
        if latest is not None and latest.get("run_key") == key:
            log.info("series %s was already checked in monitor run %s", name, key)
            continue
        report = check_one(settings, monitor, name, now, str(uuid.uuid4()), run_key=key)
        if report is not None:
            reports.append(report)
    return reports
