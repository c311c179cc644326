"""Monitoring container: reports per series (history and latest.json) and the ETag-guarded alert state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from azure.storage.blob import ContainerClient

from shared.jsonsafe import json_safe
from shared.storage import read_json, update_json, write_json

LATEST = "latest.json"
STATE = "state.json"


def latest_name(series: str) -> str:
    return f"{series}/{LATEST}"


def state_name(series: str) -> str:
    return f"{series}/{STATE}"


def history_name(series: str, checked_at: datetime, run_id: str) -> str:
    """Immutable copy of each report, sorted by time: {series}/reports/{YYYYmmddTHHMMSS}Z-{run}.json."""
    return f"{series}/reports/{checked_at:%Y%m%dT%H%M%S}Z-{run_id[:8]}.json"


def save_report(client: ContainerClient, report: dict, checked_at: datetime) -> dict:
    """Keep the report in the series' history, then make it the latest one; returns it as stored."""
    report = json_safe(report)
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
    return (state or new_state()), etag


def new_state() -> dict:
    """The alert state of a series that never alerted nor requested a retrain."""
    return {"alerts": {}, "retrain": None}


def update_state(client: ContainerClient, series: str, change: Callable[[dict], dict | None]) -> dict:
    """Apply `change` to the series' alert state with the one read-change-write helper of shared.storage.

    `change` gets the state (a fresh one when there is none) and returns the new state, or None to leave it
    as it is. Lost races are retried; after `storage.ETAG_ATTEMPTS` of them ConcurrencyConflict is raised.
    """
    return update_json(client, state_name(series), lambda state: change(state or new_state()))
