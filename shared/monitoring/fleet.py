"""The fleet summary (monitoring/fleet.json): counts by status and the worst series, kept current per check.

Shape (schema_version 1):

    schema_version  1
    updated_at      ISO-8601 UTC time of the last change
    last_run        run key of the newest report folded in
    total           series with a report
    counts          {status: number of series} over "ok", "drift", "decay", "drift+decay", "not-evaluated", "error"
    worst           up to WORST entries, highest alert score first: [{series, status, score, top, why, checked_at}]
    series          {series: {status, score, top, checked_at, run_key}}: the latest state of every series

Every batch of checks folds its reports in with a read-change-write guarded by the blob's ETag, so
concurrent batches never lose each other's series; a series checked again replaces its own entry.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob import ContainerClient

from shared.errors import ConcurrencyConflict
from shared.storage import read_json, write_json

FLEET = "fleet.json"
WORST = 20
ATTEMPTS = 20  # read-change-write rounds before giving up (many batches finish at once)
STATUSES = ("ok", "drift", "decay", "drift+decay", "not-evaluated", "error")


def entry_of(report: dict) -> dict:
    alert = report.get("alert") or {}
    return {
        "status": report["status"],
        "score": alert.get("score"),
        "top": alert.get("top"),
        "checked_at": report["checked_at"],
        "run_key": report.get("run_key"),
        "why": report.get("why"),
    }


def summarize(series: dict[str, dict], now: datetime, last_run: str | None) -> dict:
    """The summary document of per-series entries (the `why` is kept only for the worst)."""
    counts = dict.fromkeys(STATUSES, 0)
    for entry in series.values():
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    ranked = sorted(
        series.items(),
        key=lambda item: (item[1]["status"] not in ("error",), item[1]["score"] or 0.0),
        reverse=True,
    )
    worst = [{"series": name, **entry} for name, entry in ranked[:WORST] if entry["status"] != "ok"]
    return {
        "schema_version": 1,
        "updated_at": now.isoformat(),
        "last_run": last_run,
        "total": len(series),
        "counts": counts,
        "worst": worst,
        "series": {name: {k: v for k, v in entry.items() if k != "why"} for name, entry in series.items()},
    }


def read_fleet(client: ContainerClient) -> dict | None:
    """The fleet summary, or None before the first check."""
    document, _ = read_json(client, FLEET)
    return document


def update_fleet(client: ContainerClient, reports: list[dict], now: datetime) -> dict | None:
    """Fold reports into the fleet summary (ETag-guarded, retried on a lost race); returns the new summary."""
    if not reports:
        return None
    for attempt in range(ATTEMPTS):
        document, etag = read_json(client, FLEET)
        series = {}
        if document:
            # the stored entries lack `why`; keep the worst ones' why where they stay worst
            whys = {w["series"]: w.get("why") for w in document.get("worst", [])}
            series = {name: {**entry, "why": whys.get(name)} for name, entry in document["series"].items()}
        for report in reports:
            series[report["series"]] = entry_of(report)
        last_run = max((r.get("run_key") or "" for r in reports), default="") or (document or {}).get("last_run")
        updated = summarize(series, now, last_run)
        try:
            write_json(client, FLEET, updated, etag=etag, create_only=etag is None)
            return updated
        except (ResourceExistsError, ResourceModifiedError):
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise ConcurrencyConflict(f"the fleet summary kept changing ({ATTEMPTS} attempts)")
