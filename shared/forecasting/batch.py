"""Batch forecasting of many series (long format in and out), in parallel, with per-series isolation.

Input columns `series_id,date,value`; output `series_id,date,forecast,lower,upper`, exactly `horizon` rows per
series on the dates that continue the series' own frequency. Rules for the input:

* a missing column or an empty series_id is a ValueError for the whole file;
* an unparseable date, a non-numeric value, a duplicate (series_id, date) pair (the long-format contract of
  `shared.longformat` with `duplicates="reject"`), irregular dates or no
  observed value is an error of that series only: it is left out of the output and listed under `skipped`
  in the report with the row and the reason (rows count data rows from 1, the header excluded), and every
  other series is forecast; with `strict=True` any such series fails the whole batch (ValueError, no output);
* a blank value is missing; missing values and missing dates (gaps) are filled by linear interpolation on
  the series' regular calendar, and the number filled per series is reported;
* a series too short for selection (no backtest window) gets the cold-start fallback (fallback.py) and is
  listed under `cold_start`; a series with a single date takes the frequency most series of the file have;
* a series whose selection fails is forecast by seasonal naive and listed under `fallbacks` in the report.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from shared.longformat import LongRows, require_columns

from .base import level_columns
from .families import series_freq
from .frequency import regularize
from .naive import SeasonalNaive
from .progress import Progress
from .selection import select_model

logger = logging.getLogger(__name__)

OUTPUT_COLUMNS = ["series_id", "date", "forecast", "lower", "upper"]


def _check_args(horizon: int, level: float) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    if not 0 < float(level) < 100:
        raise ValueError(f"level must be between 0 and 100 (exclusive), got {level!r}")


class SeriesError(ValueError):
    """One series of a batch cannot be used; the others can."""


def _row_errors(frame: pd.DataFrame, raw_dates: pd.Series, raw_values: pd.Series) -> dict[str, str]:
    """First bad row per series: unparseable date, non-finite value, duplicate date (rows from 1)."""
    errors: dict[str, str] = {}
    checks = (
        (frame["date"].isna().to_numpy(), lambda i: f"row {i + 1}: date {raw_dates.iloc[i]!r} is not a date"),
        (frame["bad_value"].to_numpy(), lambda i: f"row {i + 1}: value {raw_values.iloc[i]!r} is not a finite number"),
    )
    for mask, message in checks:
        for i in np.flatnonzero(mask):
            errors.setdefault(frame["series_id"].iloc[i], message(int(i)))
    dated = frame["date"].notna().to_numpy()
    rows = LongRows(duplicates="reject")
    for i, sid, day, value in zip(
        np.flatnonzero(dated) + 1, frame["series_id"][dated], frame["date"][dated], frame["value"][dated], strict=True
    ):
        rows.add(int(i), sid, day, value)
    for sid, message in rows.errors.items():
        errors.setdefault(sid, message)
    return errors


def parse_frame(df: pd.DataFrame) -> tuple[dict[str, pd.Series], dict[str, int], dict[str, str]]:
    """Validate long-format input: each usable series on its regular calendar, the fill counts, and the
    error of each series that cannot be used (see the module docstring)."""
    require_columns(df.columns)
    df = df.reset_index(drop=True)
    ids = df["series_id"]
    if ids.isna().any():
        raise ValueError(f"row {int(ids.isna().to_numpy().argmax()) + 1}: empty series_id")
    values = pd.to_numeric(df["value"], errors="coerce")
    blank = df["value"].isna() | df["value"].astype(str).str.strip().eq("")
    frame = pd.DataFrame(
        {
            "series_id": ids.astype(str),
            "date": pd.to_datetime(df["date"], errors="coerce"),
            "value": values.astype(float),
            "bad_value": (values.isna() & ~blank) | np.isinf(values.to_numpy(dtype=float, na_value=np.nan)),
        }
    )
    errors = _row_errors(frame, df["date"], df["value"])
    parts = {sid: part for sid, part in frame.groupby("series_id", sort=False) if sid not in errors}
    series, filled, single = {}, {}, []
    for sid, part in parts.items():
        if part["value"].notna().sum() == 0:
            errors[sid] = "no observed value"
        elif len(part) == 1:
            single.append(sid)
        else:
            _regular(sid, part, None, series, filled, errors)
    freqs = Counter(y.index.freqstr for y in series.values())
    for sid in single:
        if freqs:
            _regular(sid, parts[sid], freqs.most_common(1)[0][0], series, filled, errors)
        else:
            errors[sid] = "a single date and no other series in the file to take a frequency from"
    order = {sid: i for i, sid in enumerate(parts)}
    series = dict(sorted(series.items(), key=lambda item: order[item[0]]))
    return series, filled, errors


def _regular(sid: str, part: pd.DataFrame, freq: str | None, series: dict, filled: dict, errors: dict) -> None:
    y = pd.Series(part["value"].to_numpy(), index=pd.DatetimeIndex(part["date"]), name=sid)
    try:
        series[sid], filled[sid] = regularize(y, freq)
    except ValueError as exc:
        errors[sid] = str(exc)


def _forecast_one(sid: str, y: pd.Series, horizon: int, level: float) -> tuple[str, pd.DataFrame, dict]:
    """Select and forecast one series; any failure falls back to seasonal naive and is reported."""
    info: dict = {"series_id": sid}
    cpu = time.process_time()
    try:
        selection = select_model(y, horizon=horizon)
        model = selection.model
        info["model"] = model.spec["name"]
        if selection.fallback:
            info["cold_start"] = selection.fallback["reason"]
    except Exception as exc:  # isolate this series: baseline forecast, flagged in the report
        logger.warning("series %s: selection failed, seasonal naive used: %s", sid, exc)
        model = SeasonalNaive({"name": "snaive", "freq": series_freq(y)}).fit(y)
        info.update(model="snaive", error=f"{type(exc).__name__}: {exc}")
    try:
        frame = model.predict(horizon, (level,))
    except Exception as exc:  # even the forecast failed: this series is left out, the batch goes on
        logger.warning("series %s left out of the batch: %r", sid, exc)
        info.update(skipped=f"forecast failed: {type(exc).__name__}: {exc}", cpu_seconds=time.process_time() - cpu)
        return sid, pd.DataFrame(columns=OUTPUT_COLUMNS), info
    info["cpu_seconds"] = time.process_time() - cpu
    lower, upper = level_columns(float(level))
    out = pd.DataFrame(
        {
            "series_id": sid,
            "date": frame.index.strftime("%Y-%m-%d"),
            "forecast": frame["mean"].to_numpy(),
            "lower": frame[lower].to_numpy(),
            "upper": frame[upper].to_numpy(),
        }
    )
    return sid, out, info


def _forecast_chunk(items: list[tuple[str, pd.Series]], horizon: int, level: float) -> list:
    return [_forecast_one(sid, y, horizon, level) for sid, y in items]


def forecast_frame(
    df: pd.DataFrame,
    horizon: int,
    level: float = 95,
    jobs: int | None = None,
    progress: bool = True,
    strict: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Forecast every usable series of a long-format frame; returns (forecasts, report).

    `jobs` is the number of worker processes (None: all cores; 1: in this process). The report lists the
    model chosen per series, series left out with their error (`skipped`), cold-start fallbacks,
    seasonal-naive fallbacks with their error, and values filled per series. With `strict`, a series that
    cannot be used raises ValueError naming every such series, before anything is forecast.
    """
    _check_args(horizon, level)
    start = time.perf_counter()
    series, filled, errors = parse_frame(df)
    skipped = [{"series_id": sid, "error": error} for sid, error in errors.items()]
    for item in skipped:
        logger.warning("series %s left out of the batch: %s", item["series_id"], item["error"])
    if strict and skipped:
        listed = "; ".join(f"series {i['series_id']!r}: {i['error']}" for i in skipped)
        raise SeriesError(f"{len(skipped)} series cannot be forecast (strict): {listed}")
    items = list(series.items())
    n_jobs = jobs or os.cpu_count() or 1
    bar = Progress(len(items), enabled=progress)
    results = {}
    if n_jobs == 1 or len(items) <= 1:
        for sid, y in items:
            results[sid] = _forecast_one(sid, y, horizon, level)
            bar.update()
    else:
        size = max(1, min(8, len(items) // (4 * n_jobs)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for chunk in parallel(delayed(_forecast_chunk)(c, horizon, level) for c in chunks):
            for result in chunk:
                results[result[0]] = result
            bar.update(len(chunk))
    bar.close()
    frames = [results[sid][1] for sid, _ in items]
    infos = [results[sid][2] for sid, _ in items]
    frames = [f for f in frames if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=OUTPUT_COLUMNS)
    seconds = time.perf_counter() - start
    report = {
        "series": len(items),
        "horizon": int(horizon),
        "level": float(level),
        "models": dict(Counter(i["model"] for i in infos)),
        "skipped": skipped + [{"series_id": i["series_id"], "error": i["skipped"]} for i in infos if "skipped" in i],
        "cold_start": [{"series_id": i["series_id"], "reason": i["cold_start"]} for i in infos if "cold_start" in i],
        "fallbacks": [{"series_id": i["series_id"], "error": i["error"]} for i in infos if "error" in i],
        "filled_values": {sid: n for sid, n in filled.items() if n},
        "seconds": round(seconds, 3),
        "series_per_second": round(len(items) / seconds, 3) if seconds > 0 else None,
        "cpu_seconds_per_series": round(sum(i["cpu_seconds"] for i in infos) / len(infos), 4) if infos else None,
    }
    return out[OUTPUT_COLUMNS], report


def forecast_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    horizon: int,
    level: float = 95,
    jobs: int | None = None,
    progress: bool = True,
    strict: bool = False,
) -> dict:
    """Read long-format CSV, forecast every usable series, write `series_id,date,forecast,lower,upper`;
    return the report (see `forecast_frame`)."""
    df = pd.read_csv(input_path, dtype=str, skipinitialspace=True)
    out, report = forecast_frame(df, horizon, level, jobs, progress, strict)
    out.to_csv(output_path, index=False)
    return report
