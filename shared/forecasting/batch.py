"""Batch forecasting of many series (long format in and out), in parallel, with per-series isolation.

Input columns `series_id,date,value`; output `series_id,date,forecast,lower,upper`, exactly `horizon` rows per
series on the dates that continue the series' own frequency. Rules for the input:

* a missing column, an unparseable date or a non-numeric value is a ValueError naming the column or row
  (rows count data rows from 1, the header excluded); duplicate (series_id, date) pairs are an error too;
* a blank value is missing; missing values and missing dates (gaps) are filled by linear interpolation on
  the series' regular calendar, and the number filled per series is reported;
* a series needs at least 3 observed values, otherwise ValueError naming it;
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

from .base import level_columns
from .frequency import regularize
from .naive import SeasonalNaive
from .progress import Progress
from .registry import series_freq
from .selection import MIN_OBSERVATIONS, select_model

logger = logging.getLogger(__name__)

COLUMNS = ("series_id", "date", "value")
OUTPUT_COLUMNS = ["series_id", "date", "forecast", "lower", "upper"]


def _check_args(horizon: int, level: float) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    if not 0 < float(level) < 100:
        raise ValueError(f"level must be between 0 and 100 (exclusive), got {level!r}")


def parse_frame(df: pd.DataFrame) -> tuple[dict[str, pd.Series], dict[str, int]]:
    """Validate long-format input and return each series on its regular calendar plus the fill counts."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"missing column {missing[0]!r}: expected columns {', '.join(COLUMNS)}")
    df = df.reset_index(drop=True)
    ids = df["series_id"]
    if ids.isna().any():
        raise ValueError(f"row {int(ids.isna().to_numpy().argmax()) + 1}: empty series_id")
    ids = ids.astype(str)
    dates = pd.to_datetime(df["date"], errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        row = int(bad.argmax())
        raise ValueError(f"row {row + 1}: date {df['date'].iloc[row]!r} is not a date (series {ids.iloc[row]!r})")
    values = pd.to_numeric(df["value"], errors="coerce")
    raw = df["value"]
    blank = raw.isna() | raw.astype(str).str.strip().eq("")
    bad = (values.isna() & ~blank).to_numpy() | np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        row = int(bad.argmax())
        raise ValueError(f"row {row + 1}: value {raw.iloc[row]!r} is not a finite number (series {ids.iloc[row]!r})")
    dup = pd.DataFrame({"s": ids, "d": dates}).duplicated().to_numpy()
    if dup.any():
        row = int(dup.argmax())
        raise ValueError(f"row {row + 1}: duplicate date {dates.iloc[row].date()} for series {ids.iloc[row]!r}")
    series, filled = {}, {}
    frame = pd.DataFrame({"series_id": ids, "date": dates, "value": values.astype(float)})
    for sid, part in frame.groupby("series_id", sort=False):
        observed = int(part["value"].notna().sum())
        if observed < MIN_OBSERVATIONS:
            raise ValueError(f"series {sid!r} has {observed} observed values; at least {MIN_OBSERVATIONS} are needed")
        y = pd.Series(part["value"].to_numpy(), index=pd.DatetimeIndex(part["date"]), name=sid)
        try:
            series[sid], filled[sid] = regularize(y)
        except ValueError as exc:
            raise ValueError(f"series {sid!r}: {exc}") from exc
    return series, filled


def _forecast_one(sid: str, y: pd.Series, horizon: int, level: float) -> tuple[str, pd.DataFrame, dict]:
    """Select and forecast one series; any failure falls back to seasonal naive and is reported."""
    info: dict = {"series_id": sid}
    cpu = time.process_time()
    try:
        model = select_model(y, horizon=horizon).model
        info["model"] = model.spec["name"]
    except Exception as exc:  # isolate this series: baseline forecast, flagged in the report
        logger.warning("series %s: selection failed, seasonal naive used: %s", sid, exc)
        model = SeasonalNaive({"name": "snaive", "freq": series_freq(y)}).fit(y)
        info.update(model="snaive", error=f"{type(exc).__name__}: {exc}")
    frame = model.predict(horizon, (level,))
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
    df: pd.DataFrame, horizon: int, level: float = 95, jobs: int | None = None, progress: bool = True
) -> tuple[pd.DataFrame, dict]:
    """Forecast every series of a long-format frame; returns (forecasts, report).

    `jobs` is the number of worker processes (None: all cores; 1: in this process). The report lists the
    model chosen per series, seasonal-naive fallbacks with their error, and values filled per series.
    """
    _check_args(horizon, level)
    start = time.perf_counter()
    series, filled = parse_frame(df)
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
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=OUTPUT_COLUMNS)
    seconds = time.perf_counter() - start
    report = {
        "series": len(items),
        "horizon": int(horizon),
        "level": float(level),
        "models": dict(Counter(i["model"] for i in infos)),
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
) -> dict:
    """Read long-format CSV, forecast every series, write `series_id,date,forecast,lower,upper`; return report."""
    df = pd.read_csv(input_path, dtype=str, skipinitialspace=True)
    out, report = forecast_frame(df, horizon, level, jobs, progress)
    out.to_csv(output_path, index=False)
    return report
