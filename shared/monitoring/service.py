"""Run the monitor: for each series with a champion, evaluate, decide actions, store the report."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from azure.storage.blob import ContainerClient

from shared.errors import ConcurrencyConflict, SeriesNotFound, VersionNotFound
from shared.forecasting.families import series_freq
from shared.ingest.curated import read_series
from shared.registry import list_series, read_card, read_champion, read_forecast
from shared.serving import raise_missing
from shared.settings import Settings, get_settings
from shared.storage import container, queue
from shared.training import training_series

from .actions import EVENT_GROUPS, decide, events_of, log_event, post_webhook, retrain_reason, webhook_payload
from .checks import BAND_COLUMNS, evaluate, window_length
from .config import MonitorSettings, get_monitor_settings
from .evidence import point_sd
from .report import build_report, error_report
from .store import read_latest, save_report, update_state

log = logging.getLogger(__name__)

MAX_LINEAGE = 60  # earlier champions read to find the forecasts served for the window's days


def latest_report(settings: Settings | None, series: str) -> dict | None:
    """The latest stored report of a series (the /api/drift document and the dashboard's drift panel)."""
    settings = settings or get_settings()
    return read_latest(container(settings.monitoring_container, settings), series)


def run_checks(
    settings: Settings | None = None,
    series: str | None = None,
    now: datetime | None = None,
    monitor: MonitorSettings | None = None,
) -> list[dict]:
    """Check one series, or every series with a champion; returns the stored reports.

    A series whose check fails gets an error report and does not stop the others. For a named series
    without a champion, NoModelYet (or SeriesNotFound if nothing is known of it) is raised.
    """
    settings = settings or get_settings()
    monitor = monitor or get_monitor_settings()
    now = now or datetime.now(UTC)
    models = container(settings.models_container, settings)
    if series is not None:
        if read_champion(models, series)[0] is None:
            raise_missing(settings, series)
        names = [series]
    else:
        names = list_series(models)
    return [report for name in names if (report := check_one(settings, monitor, name, now, str(uuid.uuid4())))]


def check_one(
    settings: Settings, monitor: MonitorSettings, name: str, now: datetime, run_id: str, run_key: str | None = None
) -> dict | None:
    """Check one series; a failure becomes its error report (raised only if that cannot be stored either)."""
    try:
        return check_series(settings, monitor, name, now, run_id, run_key)
    except Exception as exc:  # one series failing must not stop the others; the report says why
        log.exception("monitor check of series %s failed", name)
        report = error_report(series=name, run_id=run_id, checked_at=now, error=f"{type(exc).__name__}: {exc}")
        report["run_key"] = run_key
        return save_report(container(settings.monitoring_container, settings), report, now)


def run_scheduled(past_due: bool, settings: Settings | None = None) -> dict:
    """The timer's run: enqueue one check request per batch of series (shared.monitoring.fanout)."""
    from .fanout import enqueue_checks

    if past_due:
        log.warning("monitor run is past due; checking the current state once")
    return enqueue_checks(settings)


def _trained_through(card: dict) -> date:
    return date.fromisoformat(card["dataset"]["end"])


def _backtest_mase(card: dict) -> float | None:
    value = (card.get("metrics") or {}).get("mase")
    if value is None:
        value = ((card.get("backtest") or {}).get("metrics") or {}).get("mase")
    return float(value) if value is not None else None


def served_forecasts(
    models: ContainerClient, series: str, pointer: dict, card: dict, dates: pd.DatetimeIndex
) -> tuple[pd.DataFrame, float | None, dict[str, np.ndarray]]:
    """The forecast served for each date: the stored path of the newest champion trained before it.

    The champion and the earlier champions of its history are the candidates. Returns the frame of
    served means and bands (indexed by date, with the serving version and the day's horizon in its
    path), the backtest MASE the served days can be expected to show (the day-weighted mean of the
    serving versions' MASE) and each serving version's standard deviation per horizon.
    """
    lineage = [card]
    start = dates[0].date()
    for entry in pointer.get("history", [])[:MAX_LINEAGE]:
        if min(_trained_through(c) for c in lineage) < start:
            break
        try:
            lineage.append(read_card(models, series, entry["version"]))
        except VersionNotFound:
            log.warning("champion history of %s names missing version %s", series, entry["version"])
    lineage.sort(key=lambda c: (_trained_through(c), c["version"]), reverse=True)
    rows, paths, used, horizons, path_sds = [], {}, {}, {}, {}
    for stamp in dates:
        day = stamp.date()
        serving = next((c for c in lineage if _trained_through(c) < day), None)
        if serving is None:
            continue
        version = serving["version"]
        if version not in paths:
            try:
                points = read_forecast(models, series, version)["points"]
            except VersionNotFound:
                points = []
            paths[version] = {p["date"]: p for p in points}
            horizons[version] = {date.fromisoformat(p["date"]): h for h, p in enumerate(points, 1)}
            sds = [point_sd(p) for p in points]
            if points and None not in sds:
                path_sds[version] = np.array(sds)
        point = paths[version].get(day.isoformat())
        if point is None:
            continue
        rows.append(
            {
                "date": stamp,
                **{c: point.get(c) for c in BAND_COLUMNS},
                "version": version,
                "horizon": horizons[version][day],
            }
        )
        used[version] = used.get(version, 0) + 1
    frame = pd.DataFrame(rows, columns=["date", *BAND_COLUMNS, "version", "horizon"]).set_index("date")
    weights = {c["version"]: _backtest_mase(c) for c in lineage if c["version"] in used}
    known = {v: m for v, m in weights.items() if m is not None and m > 0}
    expected = sum(known[v] * used[v] for v in known) / sum(used[v] for v in known) if known else None
    return frame, expected, path_sds


def check_series(
    settings: Settings, monitor: MonitorSettings, series: str, now: datetime, run_id: str, run_key: str | None = None
) -> dict | None:
    """Evaluate one series, decide and carry out its actions, store and return its report (None: no champion)."""
    models = container(settings.models_container, settings)
    monitoring = container(settings.monitoring_container, settings)
    pointer, _ = read_champion(models, series)
    if pointer is None:
        return None
    card = read_card(models, series, pointer["version"])
    curated = read_series(container(settings.curated_container, settings), series)
    if curated is None:
        raise SeriesNotFound(f"series {series} has a champion but no curated data")
    trained_freq = card.get("dataset", {}).get("frequency")
    y, _ = training_series(curated.days, trained_freq)  # on the champion's calendar, as it was trained
    freq = trained_freq or series_freq(y)
    w = window_length(freq, monitor.window)
    served, expected, path_sds = served_forecasts(models, series, pointer, card, y.index[-w:])
    evaluation = evaluate(
        y,
        freq=freq,
        trained_through=_trained_through(card),
        window=w,
        served=served,
        expected_mase=expected,
        path_sds=path_sds,
    )
    champion_data_version = card.get("dataset", {}).get("version")
    report = build_report(
        series=series,
        run_id=run_id,
        checked_at=now,
        champion={
            "version": card["version"],
            "model": card.get("spec", {}).get("name"),
            "trained_through": card["dataset"]["end"],
            "dataset_version": champion_data_version,
        },
        data={
            "dataset_version": curated.version,
            "last_date": y.index[-1].date().isoformat(),
            "frequency": freq,
            "changed_since_champion": curated.version != champion_data_version,
        },
        evaluation=evaluation,
    )
    report["run_key"] = run_key
    act(settings, monitor, report, monitoring, now, champion_data_version)
    return save_report(monitoring, report, now)


def act(
    settings: Settings,
    monitor: MonitorSettings,
    report: dict,
    monitoring: ContainerClient,
    now: datetime,
    champion_data_version: str | None,
) -> None:
    """Claim the run's actions in the ETag-guarded state, then log the events, call the webhook, enqueue."""
    series, run_id = report["series"], report["run_id"]
    events = events_of(report)
    if not events:
        return
    plan = None

    def claim(state: dict) -> dict:
        nonlocal plan
        new_state, plan = decide(
            state,
            events=events,
            now=now,
            cooldown=timedelta(hours=monitor.cooldown_hours),
            data_version=report["data"]["dataset_version"],
            champion_data_version=champion_data_version,
            run_id=run_id,
        )
        return new_state

    update_state(monitoring, series, claim)  # ConcurrencyConflict after repeated races: no action taken

    retrain = {"requested": False, "dataset_version": None, "reason": None, "note": plan.retrain_note}
    if plan.retrain:
        reason = retrain_reason(report)
        message = {
            "series": series,
            "dataset_version": report["data"]["dataset_version"],
            "reason": reason,
            "correlation_id": run_id,
        }
        try:
            queue(settings.retrain_queue, settings).send_message(json.dumps(message).encode())
            retrain.update(requested=True, dataset_version=message["dataset_version"], reason=reason)
            log.info("monitor requested a retrain of %s@%s: %s", series, message["dataset_version"], reason)
        except Exception as exc:  # the claim is released so the next run requests it again
            log.exception("could not request the retrain of %s", series)
            retrain["note"] = f"the retrain request could not be sent: {type(exc).__name__}: {exc}"
            _release_retrain_claim(monitoring, series, run_id)
    report["actions"]["retrain"] = retrain

    for event in events:
        if event in plan.suppressed:
            report["actions"]["events"].append(
                {"event": event, "status": "suppressed", "suppressed_until": plan.suppressed[event]}
            )
            report["actions"]["webhook"].append({"event": event, "status": "suppressed"})
            group = EVENT_GROUPS[event]
            log.info("%s of %s already alerted; next alert after %s", group, series, plan.suppressed[event])
            continue
        log_event(event, report)
        report["actions"]["events"].append({"event": event, "status": "logged", "suppressed_until": None})
        if monitor.webhook_url:
            outcome = post_webhook(monitor.webhook_url, webhook_payload(event, report), monitor.webhook_timeout)
        else:
            outcome = {"event": event, "status": "not-configured"}
        report["actions"]["webhook"].append(outcome)


def _release_retrain_claim(monitoring: ContainerClient, series: str, run_id: str) -> None:
    def release(state: dict) -> dict | None:
        if (state.get("retrain") or {}).get("run_id") != run_id:
            return None  # somebody else's claim by now: leave it
        return {**state, "retrain": None}

    with contextlib.suppress(ConcurrencyConflict):
        update_state(monitoring, series, release)
