"""One monitoring evaluation of a series: the window's actuals against the forecasts served for them (no storage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from shared.forecasting.frequency import family, season_length
from shared.forecasting.metrics import mase_scale
from shared.schemas import STORED_LEVELS

from . import thresholds as th
from .drift import Sample, data_drift
from .evidence import DECAY_CHECKS, Check, ServedDays, Window, checks_of, spread, statistics, why, window_from_band

# Recent window and longest reference, in points, by frequency family (the window default is 28 days).
WINDOW_BY_FAMILY = {"D": 28, "W": 13, "M": 6, "Q": 4, "Y": 3}
REFERENCE_BY_FAMILY = {"D": 364, "W": 104, "M": 36, "Q": 16, "Y": 10}
UNIT_BY_FAMILY = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}
MIN_REFERENCE_WINDOWS = 2  # the raw-value evidence needs a reference of at least two windows' worth of points
MIN_SERVED = {"D": 7, "W": 4, "M": 3, "Q": 3, "Y": 3}  # served points the alerting checks need
BAND_COLUMNS = ("mean", *(f"{side}_{level}" for level in STORED_LEVELS for side in ("lower", "upper")))


def window_length(freq: str, configured: int | None = None) -> int:
    """Points in the recent window: the configured number, else 28 days / 13 weeks / 6 months / ..."""
    return int(configured) if configured else WINDOW_BY_FAMILY[family(freq)]


@dataclass
class Judgement:
    """The alerting checks of a window's served days, the window they were computed on and the why."""

    checks: list[Check]
    window: Window | None
    why: str
    mase: tuple[float, float] | None = None

    @property
    def alert(self) -> bool:
        return any(c.fired for c in self.checks)


def judge(
    served: ServedDays,
    *,
    fam: str,
    klass: str | None = None,
    mase_scale_value: float | None = None,
    expected_mase: float | None = None,
    spread_value: float | None = None,
) -> Judgement:
    """The alerting checks of the served days of one window against the thresholds of the series' class
    (`klass`, by default the frequency family's regular class; `shared.monitoring.thresholds.series_class`).

    This is the whole per-run decision, shared by the monitor and the calibration bench.
    """
    unit = UNIT_BY_FAMILY[fam]
    if len(served.actual) < MIN_SERVED[fam]:
        return Judgement([], None, why(None, []))
    window = window_from_band(served, unit)
    klass = klass or th.series_class(fam)
    # Week-on-week differences of low counts are mostly 0 and +-1: their spread says little.
    window.spread = None if klass.endswith("_counts") else spread_value
    realized = None
    mase = None
    if mase_scale_value and expected_mase and expected_mase > 0:
        realized = float(np.mean(np.abs(window.actual - window.mean)) / mase_scale_value)
        mase = (realized, float(expected_mase))
    checks = checks_of(statistics(window, realized, expected_mase), klass)
    return Judgement(checks, window, why(window, checks, mase), mase)


@dataclass
class Evaluation:
    """Outcome of the checks of one series; `drift` or `decay` empty with a note when not evaluated."""

    window: dict
    reference: dict | None
    drift: list[Check] = field(default_factory=list)
    drift_note: str | None = None
    decay: list[Check] = field(default_factory=list)
    decay_note: str | None = None
    recent: list[dict] = field(default_factory=list)
    why: str = ""
    served_points: int = 0
    klass: str | None = None  # the threshold class the alerting checks were judged against

    @property
    def drift_fired(self) -> list[str]:
        return [c.name for c in self.drift if c.fired]

    @property
    def decay_fired(self) -> list[str]:
        return [c.name for c in self.decay if c.fired]

    @property
    def alerting(self) -> list[Check]:
        return [c for c in [*self.drift, *self.decay] if c.alerts]


def _span(index: pd.DatetimeIndex) -> dict:
    return {"start": index[0].date().isoformat(), "end": index[-1].date().isoformat(), "points": len(index)}


def _levels(frame: pd.DataFrame) -> list[float]:
    """Stored levels whose bounds are known on every served day."""
    return [
        level
        for level in STORED_LEVELS
        if {f"lower_{level}", f"upper_{level}"} <= set(frame.columns)
        and frame[[f"lower_{level}", f"upper_{level}"]].notna().all().all()
    ]


def _recent_rows(dates: pd.DatetimeIndex, values: np.ndarray, frame: pd.DataFrame) -> list[dict]:
    columns = ["mean", "lower_80", "upper_80", "lower_95", "upper_95", "version"]
    frame = frame.reindex(columns=columns)
    rows = []
    for d, actual, record in zip(dates, values, frame.to_dict("records"), strict=True):
        row = {"date": d.date().isoformat(), "actual": float(actual)}
        for c in columns:
            v = record[c]
            row[c] = (
                None if v is None or (isinstance(v, float) and np.isnan(v)) else (v if c == "version" else float(v))
            )
        rows.append(row)
    return rows


def evaluate(
    y: pd.Series,
    *,
    freq: str,
    trained_through: date,
    window: int | None = None,
    served: pd.DataFrame | None = None,
    expected_mase: float | None = None,
    path_sds: dict[str, np.ndarray] | None = None,
) -> Evaluation:
    """Check the last `window` points of the regular series y against the forecasts served for them.

    `served` (indexed by date) holds the mean and the band columns of the forecast served for each
    day, the serving version and, optionally, the day's horizon in that version's path (`horizon`);
    with each version's standard deviation per horizon (`path_sds`) the scores are whitened.
    The alerting checks judge the served days (shared.monitoring.evidence);
    the raw-value checks compare the window with the champion's training data before it (at most a year)
    and are evidence only.
    """
    fam = family(freq)
    w = window_length(freq, window)
    m = season_length(freq)
    n = len(y)
    if n < w:
        return Evaluation(
            {"start": None, "end": None, "points": n}, None, drift_note=f"fewer than {w} points", why="Not judged."
        )
    start = n - w
    values = y.to_numpy(dtype=float)
    dates = y.index[start:]
    result = Evaluation(_span(dates), None)

    frame = served.reindex(dates) if served is not None else pd.DataFrame(index=dates, columns=list(BAND_COLUMNS))
    result.recent = _recent_rows(dates, values[start:], frame)
    have = frame.dropna(subset=["mean"]) if "mean" in frame else frame.iloc[0:0]
    levels = _levels(have)
    if not levels:
        have = have.iloc[0:0]
    actual = y.reindex(have.index).to_numpy(dtype=float)
    weekday = np.asarray(have.index.day_of_week) if fam == "D" and m == 7 else None
    path = None
    if path_sds and {"horizon", "version"} <= set(have.columns) and have["horizon"].notna().all():
        group, versions = pd.factorize(have["version"])
        if all(v in path_sds for v in versions):
            path = (have["horizon"].to_numpy(dtype=int), group, [path_sds[v] for v in versions])
    trained_end = int(np.searchsorted(y.index, pd.Timestamp(trained_through), side="right"))
    result.klass = th.series_class(fam, values[:trained_end])
    served_days = ServedDays(
        actual,
        {c: have[c].to_numpy(dtype=float) for c in BAND_COLUMNS if c in have},
        levels,
        np.asarray([d.toordinal() for d in have.index.date]),
        weekday,
        path,
    )
    judgement = judge(
        served_days,
        fam=fam,
        klass=result.klass,
        mase_scale_value=mase_scale(values[:start], m),
        expected_mase=expected_mase,
        spread_value=spread(values, w) if weekday is not None else None,
    )
    result.served_points = len(have)
    result.why = judgement.why
    result.drift = [c for c in judgement.checks if c.name not in DECAY_CHECKS]
    result.decay = [c for c in judgement.checks if c.name in DECAY_CHECKS]
    if not judgement.checks:
        note = f"{len(have)} of the window's {w} points had a served forecast; {MIN_SERVED[fam]} are needed"
        result.drift_note = result.decay_note = note
    elif not any(c.name == "mase_ratio" for c in result.decay):
        result.decay_note = "MASE ratio not evaluated: the champion's card has no backtest MASE"

    positions = np.asarray(y.index.day_of_week) if fam == "D" and m == 7 else np.arange(n) % m
    ref_end = min(start, trained_end)
    ref_start = max(0, ref_end - REFERENCE_BY_FAMILY[fam])
    if ref_end - ref_start >= MIN_REFERENCE_WINDOWS * w:
        result.reference = _span(y.index[ref_start:ref_end])
        ref = Sample(values[ref_start:ref_end], positions[ref_start:ref_end], m)
        result.drift += data_drift(ref, Sample(values[start:], positions[start:], m))
    return result
