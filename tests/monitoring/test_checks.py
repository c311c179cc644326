"""One evaluation: window and reference placement, served forecasts, what is evaluated and what is not."""

import numpy as np
import pandas as pd

from shared.monitoring.checks import MIN_DECAY_POINTS, evaluate, window_length
from shared.monitoring.decay import one_step_errors
from tests.monitoring.builders import NOISE_SD, daily_sales

SPEC = {"name": "snaive", "freq": "D"}


def served_for(y: pd.Series, start: int, offset: float = 0.0) -> pd.DataFrame:
    """A served forecast for positions start.. : last week's value (plus `offset`), with a band of +-2 sd."""
    dates = y.index[start:]
    mean = y.shift(7).iloc[start:].to_numpy() + offset
    sd = np.sqrt(2) * NOISE_SD
    return pd.DataFrame(
        {
            "mean": mean,
            "lower_80": mean - 1.28 * sd,
            "upper_80": mean + 1.28 * sd,
            "lower_95": mean - 1.96 * sd,
            "upper_95": mean + 1.96 * sd,
            "version": "v1",
        },
        index=dates,
    )


def test_window_by_frequency_unless_configured():
    assert [window_length(f) for f in ("D", "W-SUN", "MS", "QS", "YS")] == [28, 13, 6, 4, 3]
    assert window_length("D", 14) == 14


def test_reference_is_the_training_data_before_the_window():
    y = daily_sales(days=200)
    result = evaluate(y, freq="D", trained_through=y.index[150].date())
    assert result.window == {"start": str(y.index[172].date()), "end": str(y.index[-1].date()), "points": 28}
    assert result.reference == {"start": str(y.index[0].date()), "end": str(y.index[150].date()), "points": 151}
    evaluated = evaluate(y, freq="D", trained_through=y.index[-1].date())
    assert evaluated.reference["end"] == str(y.index[171].date())  # never overlaps the window


def test_reference_is_at_most_a_year():
    y = daily_sales(days=500)
    result = evaluate(y, freq="D", trained_through=y.index[-1].date())
    assert result.reference["points"] == 364


def test_too_little_training_data_means_no_drift_verdict():
    y = daily_sales(days=80)
    result = evaluate(y, freq="D", trained_through=y.index[-1].date())
    assert result.drift == [] and "56 are needed" in result.drift_note
    assert result.drift_fired == [] and result.decay_fired == []


def test_recent_rows_carry_the_served_band_where_one_was_served():
    y = daily_sales(days=200)
    result = evaluate(y, freq="D", trained_through=y.index[189].date(), served=served_for(y, 190))
    assert len(result.recent) == 28
    assert all(row["mean"] is None and row["version"] is None for row in result.recent[:18])
    assert all(row["lower_95"] < row["mean"] < row["upper_95"] and row["version"] == "v1" for row in result.recent[18:])
    assert [row["actual"] for row in result.recent] == y.iloc[-28:].tolist()


def test_mase_ratio_needs_a_week_of_served_forecasts_and_a_backtest_mase():
    y = daily_sales(days=200)
    few = evaluate(
        y,
        freq="D",
        trained_through=y.index[-1].date(),
        served=served_for(y, 200 - MIN_DECAY_POINTS + 1),
        expected_mase=1.0,
    )
    assert (
        "mase_ratio" not in [c.name for c in few.decay]
        and "fewer than 7 days of the window had a served forecast" in few.decay_note
    )
    no_mase = evaluate(y, freq="D", trained_through=y.index[-1].date(), served=served_for(y, 172))
    assert "no backtest MASE" in no_mase.decay_note
    enough = evaluate(y, freq="D", trained_through=y.index[171].date(), served=served_for(y, 172), expected_mase=1.0)
    ratio = next(c for c in enough.decay if c.name == "mase_ratio")
    assert ratio.detail["points"] == 28 and 0.6 < ratio.statistic < 1.4 and not ratio.fired


def test_bad_served_forecasts_are_decay_and_a_shift_is_drift():
    y = daily_sales(days=200)
    bad = evaluate(
        y, freq="D", trained_through=y.index[171].date(), served=served_for(y, 172, offset=300), expected_mase=1.0
    )
    assert bad.decay_fired == ["mase_ratio"] and bad.drift_fired == []
    y.iloc[-28:] += 4 * NOISE_SD
    errors = one_step_errors(y, SPEC, range(172, 200))
    moved = evaluate(y, freq="D", trained_through=y.index[171].date(), one_step=errors)
    assert {"level_shift", "ks", "wasserstein"} <= set(moved.drift_fired)
    assert "cusum_mean" in moved.decay_fired


def test_stable_series_with_a_good_champion_fires_nothing():
    y = daily_sales(days=200, seed=11)
    errors = one_step_errors(y, SPEC, range(172, 200))
    result = evaluate(
        y, freq="D", trained_through=y.index[171].date(), served=served_for(y, 172), expected_mase=1.0, one_step=errors
    )
    assert [c.name for c in result.drift] == [
        "ks",
        "psi",
        "wasserstein",
        "level_shift",
        "variance_change",
        "seasonal_profile",
    ]
    assert [c.name for c in result.decay] == ["mase_ratio", "cusum_mean", "cusum_scale"]
    assert result.drift_fired == [] and result.decay_fired == []
