"""Monitoring container: reports per series (history and latest.json) and the ETag-guarded alert state."""

from __future__ import annotations

from datetime import datetime

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob import ContainerClient

from shared.errors import ConcurrencyConflict
from shared.storage import read_json, write_json

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
    from .report import json_ready  # numpy; kept off the import path of the HTTP readers of reports

    report = json_ready(report)
    write_json(client, history_name(report["series"], checked_at, report["run_id"]), report, create_only=True)
    write_json(client, latest_name(report["series"]), report)
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
