"""One monitoring evaluation of a series: recent window and reference, drift and decay checks (no storage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from shared.forecasting.frequency import family, season_length
from shared.forecasting.metrics import mase_scale

from .decay import cusum_mean_check, cusum_scale_check, mase_ratio_check
from .drift import Check, Sample, data_drift

# Recent window and longest reference, in points, by frequency family (the window default is 28 days).
WINDOW_BY_FAMILY = {"D": 28, "W": 13, "M": 6, "Q": 4, "Y": 3}
REFERENCE_BY_FAMILY = {"D": 364, "W": 104, "M": 36, "Q": 16, "Y": 10}
MIN_REFERENCE_WINDOWS = 2  # the reference must hold at least two windows' worth of points
MIN_DECAY_POINTS = 7  # the MASE ratio and the CUSUMs need at least this many errors
BAND_COLUMNS = ("mean", "lower_80", "upper_80", "lower_95", "upper_95")


def window_length(freq: str, configured: int | None = None) -> int:
    """Points in the recent window: the configured number, else 28 days / 13 weeks / 6 months / ..."""
    return int(configured) if configured else WINDOW_BY_FAMILY[family(freq)]


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

    @property
    def drift_fired(self) -> list[str]:
        return [c.name for c in self.drift if c.fired]

    @property
    def decay_fired(self) -> list[str]:
        return [c.name for c in self.decay if c.fired]


def _span(index: pd.DatetimeIndex) -> dict:
    return {"start": index[0].date().isoformat(), "end": index[-1].date().isoformat(), "points": len(index)}


def evaluate(
    y: pd.Series,
    *,
    freq: str,
    trained_through: date,
    window: int | None = None,
    served: pd.DataFrame | None = None,
    expected_mase: float | None = None,
    one_step: pd.DataFrame | None = None,
) -> Evaluation:
    """Check the last `window` points of the regular series y.

    Data drift compares them with the champion's training data before the window (at most a year of
    it). Decay compares the forecasts that were served for those points (`served`, indexed by date,
    with mean and band columns) with the actuals against `expected_mase` (the backtest MASE), and runs
    the CUSUMs over `one_step` (standardized one-step errors of the window, see decay.one_step_errors).
    """
    fam = family(freq)
    w = window_length(freq, window)
    m = season_length(freq)
    n = len(y)
    if n < w:
        return Evaluation({"start": None, "end": None, "points": n}, None, drift_note=f"fewer than {w} points")
    start = n - w
    # Daily data use the day of the week (Monday first) as the seasonal position, other data the index.
    positions = np.asarray(y.index.day_of_week) if fam == "D" and m == 7 else np.arange(n) % m
    values = y.to_numpy(dtype=float)
    win = Sample(values[start:], positions[start:], m)
    result = Evaluation(_span(y.index[start:]), None)
    trained_end = int(np.searchsorted(y.index, pd.Timestamp(trained_through), side="right"))
    ref_end = min(start, trained_end)
    ref_start = max(0, ref_end - REFERENCE_BY_FAMILY[fam])
    if ref_end - ref_start >= MIN_REFERENCE_WINDOWS * w:
        result.reference = _span(y.index[ref_start:ref_end])
        ref = Sample(values[ref_start:ref_end], positions[ref_start:ref_end], m)
        result.drift = data_drift(ref, win)
    else:
        result.drift_note = (
            f"the champion's training data before the window hold {max(ref_end - ref_start, 0)} points; "
            f"{MIN_REFERENCE_WINDOWS * w} are needed"
        )

    dates = y.index[start:]
    columns = [*BAND_COLUMNS, "version"]
    frame = served.reindex(dates) if served is not None else pd.DataFrame(index=dates)
    frame = frame.reindex(columns=columns)
    result.recent = [
        {
            "date": d.date().isoformat(),
            "actual": float(actual),
            **{c: (None if pd.isna(row[c]) else (row[c] if c == "version" else float(row[c]))) for c in columns},
        }
        for d, actual, (_, row) in zip(dates, values[start:], frame.iterrows(), strict=True)
    ]
    band = frame.dropna(subset=["mean"])
    if len(band) >= MIN_DECAY_POINTS and expected_mase and expected_mase > 0:
        scale = mase_scale(values[:start], m)
        actual = y.reindex(band.index).to_numpy(dtype=float)
        result.decay.append(mase_ratio_check(actual, band["mean"].to_numpy(dtype=float), scale, expected_mase))
    notes = []
    if not any(c.name == "mase_ratio" for c in result.decay):
        why = (
            "the champion's card has no backtest MASE"
            if not expected_mase
            else f"fewer than {MIN_DECAY_POINTS} days of the window had a served forecast"
        )
        notes.append(f"MASE ratio not evaluated: {why}")
    if one_step is not None and len(one_step) >= MIN_DECAY_POINTS:
        z = one_step["z"].to_numpy(dtype=float)
        stamps = list(one_step["date"])
        result.decay += [cusum_mean_check(z, stamps), cusum_scale_check(z, stamps)]
    else:
        notes.append(f"CUSUMs not evaluated: fewer than {MIN_DECAY_POINTS} one-step errors")
    result.decay_note = "; ".join(notes) or None
    return result
