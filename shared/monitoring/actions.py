"""What a report that fired leads to: alert events, the webhook, and a retrain request when the data changed."""

from __future__ import annotations

import copy
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .report import DECAY_EVENT, DRIFT_EVENT

log = logging.getLogger(__name__)

EVENT_GROUPS = {DRIFT_EVENT: "drift", DECAY_EVENT: "decay"}


@dataclass
class Plan:
    """Decided actions of one run: alerts to send, alerts held back by the cooldown, retrain or not."""

    alerts: list[str] = field(default_factory=list)
    suppressed: dict[str, str] = field(default_factory=dict)  # event -> suppressed until (ISO)
    retrain: bool = False
    retrain_note: str = "nothing fired"


def events_of(report: dict) -> list[str]:
    return [event for event, group in EVENT_GROUPS.items() if report[group]["detected"]]


def decide(
    state: dict,
    *,
    events: list[str],
    now: datetime,
    cooldown: timedelta,
    data_version: str,
    champion_data_version: str | None,
    run_id: str,
) -> tuple[dict, Plan]:
    """The new alert state and the plan (pure: no I/O).

    An event is alerted unless the same event was alerted for the series less than `cooldown` ago.
    A retrain is requested only when the curated data changed since the champion was trained and no
    retrain of this dataset version was requested before: a retrain never causes another one, because
    it trains exactly that version, and a failed or skipped retrain is not requested again.
    """
    new_state = copy.deepcopy(state)
    new_state.setdefault("alerts", {})
    plan = Plan()
    for event in events:
        last = state.get("alerts", {}).get(event)
        if last is not None:
            until = datetime.fromisoformat(last["at"]) + cooldown
            if now < until:
                plan.suppressed[event] = until.isoformat()
                continue
        plan.alerts.append(event)
        new_state["alerts"][event] = {"at": now.isoformat(), "run_id": run_id}
    if not events:
        return new_state, plan
    previous = state.get("retrain")
    if data_version == champion_data_version:
        plan.retrain_note = "the champion was trained on the current data: alert only, no retrain"
    elif previous is not None and previous.get("dataset_version") == data_version:
        plan.retrain_note = (
            f"a retrain of dataset version {data_version} was already requested at {previous.get('requested_at')}"
        )
    else:
        plan.retrain = True
        plan.retrain_note = "the data changed since the champion was trained: retrain requested"
        new_state["retrain"] = {"dataset_version": data_version, "requested_at": now.isoformat(), "run_id": run_id}
    return new_state, plan


def retrain_reason(report: dict) -> str:
    """The reason recorded in the retrain request and then in the new version's card."""
    parts = [f"{group} ({', '.join(report[group]['fired'])})" for group in ("drift", "decay") if report[group]["fired"]]
    return f"monitor: {'; '.join(parts)} [run {report['run_id']}]"


def _group_numbers(report: dict, group: str) -> tuple[dict, dict]:
    checks = report[group]["checks"]
    return {k: v["statistic"] for k, v in checks.items()}, {k: v["threshold"] for k, v in checks.items()}


def custom_dimensions(event: str, report: dict) -> dict:
    """Flat custom dimensions of the warning an Application Insights alert rule fires on."""
    group = EVENT_GROUPS[event]
    statistics, thresholds = _group_numbers(report, group)
    dims = {
        "event": event,
        "series": report["series"],
        "champion_version": report["champion"]["version"],
        "run_id": report["run_id"],
        "fired": ",".join(report[group]["fired"]),
        "window_start": report["window"]["start"],
        "window_end": report["window"]["end"],
        "retrain_requested": report["actions"]["retrain"]["requested"],
    }
    for name, value in statistics.items():
        dims[f"stat_{name}"] = value
        dims[f"threshold_{name}"] = thresholds[name]
    return dims


def log_event(event: str, report: dict) -> None:
    """The structured warning: its message starts with the event name, which the alert rules match."""
    group = EVENT_GROUPS[event]
    log.warning(
        "%s: series %s, %s checks fired: %s (champion %s, window %s..%s)",
        event,
        report["series"],
        group,
        ", ".join(report[group]["fired"]),
        report["champion"]["version"],
        report["window"]["start"],
        report["window"]["end"],
        extra={"custom_dimensions": custom_dimensions(event, report)},
    )


def webhook_payload(event: str, report: dict) -> dict:
    """The JSON body POSTed to DRIFT_WEBHOOK_URL for one alert."""
    group = EVENT_GROUPS[event]
    statistics, thresholds = _group_numbers(report, group)
    return {
        "event": event,
        "series": report["series"],
        "status": report["status"],
        "checked_at": report["checked_at"],
        "run_id": report["run_id"],
        "champion_version": report["champion"]["version"],
        "fired": report[group]["fired"],
        "reasons": [r for r in report["reasons"] if r.startswith(group)],
        "statistics": statistics,
        "thresholds": thresholds,
        "window": report["window"],
        "retrain_requested": report["actions"]["retrain"]["requested"],
        "report": f"/api/drift?series={report['series']}",
    }


def post_webhook(url: str, payload: dict, timeout: float) -> dict:
    """POST the payload as JSON; never raises: the outcome (sent or failed, and why) is returned and logged."""
    body = json.dumps(payload, default=str, allow_nan=False).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "forecastops-monitor"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return {"event": payload["event"], "status": "sent", "http_status": response.status}
    except urllib.error.HTTPError as exc:
        log.warning("webhook for %s of %s answered %s", payload["event"], payload["series"], exc.code)
        return {"event": payload["event"], "status": "failed", "http_status": exc.code, "error": str(exc.reason)}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("webhook for %s of %s failed: %s", payload["event"], payload["series"], exc)
        return {"event": payload["event"], "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
