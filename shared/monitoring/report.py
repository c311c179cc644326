"""The monitoring report of one series and one run (stored as monitoring/{series}/latest.json).

Schema (schema_version 2); every key is always present unless marked optional:

    schema_version  2
    series          series id
    run_id          id of this run; also the correlation id of its events, webhook calls and retrain request
    checked_at      ISO-8601 UTC time of the run
    status          "ok" | "drift" | "decay" | "drift+decay" | "not-evaluated" | "error"
    why             one sentence a person reads in five seconds: how the window's actuals compared with the
                    forecasts served for them, the served 95% interval's coverage, and the strongest evidence
    alert           {raised, top, score}: the run's one decision (any alerting check beyond its threshold),
                    the alerting check with the largest statistic / threshold, and that ratio
    reasons         list of strings, one per check that fired ("drift bias: 4.71 (threshold 3.9)")
    champion        {version, model, trained_through, dataset_version} of the champion checked
    data            {dataset_version, last_date, frequency, changed_since_champion}: the curated series now
    window          {start, end, points, served}: the recent window (the last 28 days for daily data) and
                    how many of its points had a served forecast
    reference       {start, end, points} of the champion's training data the raw values are compared with, or null
    drift           {evaluated, detected, fired, note, checks}
    decay           {evaluated, detected, fired, note, checks}
                    checks: {name: {statistic, threshold, fired, alerts, description, detail (optional)}}
                    alerting drift checks: bias, mean_score, cusum_bias, scale, profile and spread (daily);
                    evidence only (alerts false, never fire): ks, psi, wasserstein, level_shift,
                    variance_change, seasonal_profile on raw values against the training data
                    alerting decay checks: coverage, mase_ratio
    recent          [{date, actual, mean, lower_80, upper_80, lower_95, upper_95, version}] per window day;
                    the band is the forecast served for that day (null where none was) and version the
                    model that served it: the window's actuals against the served band
    actions         {events: [{event, status: "logged" | "suppressed", suppressed_until}],
                     webhook: [{event, status: "sent" | "failed" | "not-configured" | "suppressed",
                                http_status (optional), error (optional)}],
                     retrain: {requested, dataset_version, reason, note}}
    thresholds      where the thresholds come from, and the series' threshold class when it was judged
    error           (optional) what failed, with status "error"; champion, data, window and reference are
                    then null and drift and decay not evaluated
"""

from __future__ import annotations

from datetime import datetime

from .checks import Evaluation
from .evidence import Check

SCHEMA_VERSION = 2
THRESHOLDS_SOURCE = "calibrated by bench/drift_calibration.py (bench/README.md, drift calibration)"
DRIFT_EVENT = "DriftDetected"
DECAY_EVENT = "ModelDecayDetected"


def _reason(group: str, check: Check) -> str:
    stat = "n/a" if check.statistic is None else f"{check.statistic:.3g}"
    return f"{group} {check.name}: {stat} (threshold {check.threshold:.3g})"


def _section(checks: list[Check], note: str | None) -> dict:
    return {
        "evaluated": any(c.alerts for c in checks),
        "detected": any(c.fired for c in checks),
        "fired": [c.name for c in checks if c.fired],
        "note": note,
        "checks": {c.name: c.to_dict() for c in checks},
    }


def status_of(evaluation: Evaluation) -> str:
    if not evaluation.alerting:
        return "not-evaluated"
    drift, decay = bool(evaluation.drift_fired), bool(evaluation.decay_fired)
    if drift and decay:
        return "drift+decay"
    if drift:
        return "drift"
    if decay:
        return "decay"
    return "ok"


def alert_of(evaluation: Evaluation) -> dict:
    """The run's one decision and its strongest alerting check."""
    checks = [c for c in evaluation.alerting if c.statistic is not None]
    if not checks:
        return {"raised": False, "top": None, "score": None}
    top = max(checks, key=lambda c: c.score)
    return {"raised": any(c.fired for c in checks), "top": top.name, "score": round(top.score, 4)}


def build_report(
    *,
    series: str,
    run_id: str,
    checked_at: datetime,
    champion: dict,
    data: dict,
    evaluation: Evaluation,
) -> dict:
    """The report of a finished evaluation; `actions` is filled in by the caller once they are decided."""
    reasons = [_reason("drift", c) for c in evaluation.drift if c.fired]
    reasons += [_reason("decay", c) for c in evaluation.decay if c.fired]
    return {
        "schema_version": SCHEMA_VERSION,
        "series": series,
        "run_id": run_id,
        "checked_at": checked_at.isoformat(),
        "status": status_of(evaluation),
        "why": evaluation.why,
        "alert": alert_of(evaluation),
        "reasons": reasons,
        "champion": champion,
        "data": data,
        "window": {**evaluation.window, "served": evaluation.served_points},
        "reference": evaluation.reference,
        "drift": _section(evaluation.drift, evaluation.drift_note),
        "decay": _section(evaluation.decay, evaluation.decay_note),
        "recent": evaluation.recent,
        "actions": {
            "events": [],
            "webhook": [],
            "retrain": {"requested": False, "dataset_version": None, "reason": None, "note": "nothing fired"},
        },
        "thresholds": THRESHOLDS_SOURCE + (f"; class {evaluation.klass}" if evaluation.klass else ""),
    }


def error_report(*, series: str, run_id: str, checked_at: datetime, error: str) -> dict:
    """The report of a run that failed for this series (the other series are still checked)."""
    empty = {"evaluated": False, "detected": False, "fired": [], "note": "not evaluated: the run failed", "checks": {}}
    return {
        "schema_version": SCHEMA_VERSION,
        "series": series,
        "run_id": run_id,
        "checked_at": checked_at.isoformat(),
        "status": "error",
        "why": f"The check failed: {error}",
        "alert": {"raised": False, "top": None, "score": None},
        "reasons": [],
        "champion": None,
        "data": None,
        "window": None,
        "reference": None,
        "drift": empty,
        "decay": empty,
        "recent": [],
        "actions": {
            "events": [],
            "webhook": [],
            "retrain": {"requested": False, "dataset_version": None, "reason": None, "note": "the run failed"},
        },
        "thresholds": THRESHOLDS_SOURCE,
        "error": error,
    }
