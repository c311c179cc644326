"""Monitoring container: reports per series (history and latest.json) and the ETag-guarded alert state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob import ContainerClient

from shared.errors import ConcurrencyConflict
from shared.storage import read_json, write_json

log = logging.getLogger(__name__)

LATEST = "latest.json"
STATE = "state.json"
STATE_ATTEMPTS = 5  # read-change-write rounds of the alert state before giving up


def latest_name(series: str) -> str:
    return f"{series}/{LATEST}"


def state_name(series: str) -> str:
    return f"{series}/{STATE}"


def history_name(series: str, checked_at: datetime, run_id: str) -> str:
    """Immutable copy of each report, sorted by time: {series}/reports/{YYYYmmddTHHMMSS}Z-{run}.json."""
    return f"{series}/reports/{checked_at:%Y%m%dT%H%M%S}Z-{run_id[:8]}.json"


def save_report(client: ContainerClient, report: dict, checked_at: datetime) -> dict:
    """Keep the report in the series' history, then make it the latest one; returns it as stored."""
    from .report import json_ready  # numpy; kept off the import path of the HTTP readers of reports

    report = json_ready(report)
    write_json(client, history_name(report["series"], checked_at, report["run_id"]), report, create_only=True)
    write_json(client, latest_name(report["series"]), report)
    from shared.fleet import record_check  # the fleet index lives in this container

    record_check(client, report)
    return report


def read_latest(client: ContainerClient, series: str) -> dict | None:
    report, _ = read_json(client, latest_name(series))
    return report


def read_state(client: ContainerClient, series: str) -> tuple[dict, str | None]:
    """The series' alert state (last alert per event, last retrain requested) and its ETag."""
    state, etag = read_json(client, state_name(series))
    return (state or {"alerts": {}, "retrain": None}), etag


def write_state(client: ContainerClient, series: str, state: dict, etag: str | None) -> None:
    """Replace the state if nobody else did since it was read (ConcurrencyConflict otherwise)."""
    try:
        write_json(client, state_name(series), state, etag=etag, create_only=etag is None)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise ConcurrencyConflict(f"monitoring state of {series} changed during the run") from exc


def update_state(client: ContainerClient, series: str, change: Callable[[dict], dict | None]) -> dict | None:
    """Read the state, apply `change` and write its result if nobody wrote meanwhile, else start over.

    `change` returns the new state, or None to leave the state as it is (then None is returned).
    After STATE_ATTEMPTS lost races ConcurrencyConflict is raised.
    """
    for _ in range(STATE_ATTEMPTS):
        state, etag = read_state(client, series)
        new_state = change(state)
        if new_state is None:
            return None
        try:
            write_state(client, series, new_state, etag)
            return new_state
        except ConcurrencyConflict:
            log.info("monitoring state of %s changed meanwhile; reading it again", series)
    raise ConcurrencyConflict(f"monitoring state of {series} kept changing")
