"""One evaluation: window and reference placement, served days, what is evaluated, the why, raw values as evidence."""

import numpy as np
import pandas as pd

from shared.monitoring import thresholds as th
from shared.monitoring.checks import MIN_SERVED, evaluate, window_length
from tests.monitoring.builders import NOISE_SD, daily_sales


def served_for(y: pd.Series, start: int, offset: float = 0.0, version: str = "v1") -> pd.DataFrame:
    """A served forecast for positions start..: the series' own expected value (plus `offset`), +-1 noise sd per z."""
    dates = y.index[start:]
    mean = 1000 + _profile(dates) + offset
    sd = NOISE_SD * 1.05
    frame = {"mean": mean}
    for level, z in ((50, 0.674), (80, 1.2816), (90, 1.645), (95, 1.96), (99, 2.576)):
        frame[f"lower_{level}"], frame[f"upper_{level}"] = mean - z * sd, mean + z * sd
    return pd.DataFrame({**frame, "version": version}, index=dates)


def _profile(dates: pd.DatetimeIndex) -> np.ndarray:
    from tests.monitoring.builders import PROFILE

    return PROFILE[dates.day_of_week]


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


def test_without_served_forecasts_nothing_is_judged_and_raw_values_are_only_evidence():
    y = daily_sales(days=200)
    y.iloc[-28:] += 5 * NOISE_SD  # far beyond anything before: the raw checks see it
    result = evaluate(y, freq="D", trained_through=y.index[-1].date())
    assert result.alerting == [] and result.drift_fired == [] and result.decay_fired == []
    assert "0 of the window's 28 points had a served forecast; 7 are needed" in result.drift_note
    raw = {c.name: c for c in result.drift}
    assert raw["level_shift"].detail["beyond_threshold"] and not raw["level_shift"].fired
    assert result.why == "Not judged: no forecast was served for the window's days yet."


def test_recent_rows_carry_the_served_band_where_one_was_served():
    y = daily_sales(days=200)
    result = evaluate(y, freq="D", trained_through=y.index[189].date(), served=served_for(y, 190))
    assert len(result.recent) == 28 and result.served_points == 10
    assert all(row["mean"] is None and row["version"] is None for row in result.recent[:18])
    assert all(row["lower_95"] < row["mean"] < row["upper_95"] and row["version"] == "v1" for row in result.recent[18:])
    assert [row["actual"] for row in result.recent] == y.iloc[-28:].tolist()


def test_a_week_of_served_days_is_judged_and_fewer_are_not():
    y = daily_sales(days=200)
    few = evaluate(y, freq="D", trained_through=y.index[-1].date(), served=served_for(y, 200 - MIN_SERVED["D"] + 1))
    assert few.alerting == []
    enough = evaluate(y, freq="D", trained_through=y.index[-1].date(), served=served_for(y, 200 - MIN_SERVED["D"]))
    assert {c.name for c in enough.alerting} == {"bias", "mean_score", "cusum_bias", "scale", "spread", "coverage"}
    assert "no backtest MASE" in enough.decay_note


def test_a_good_champion_is_quiet_and_a_biased_one_alerts_with_the_why():
    y = daily_sales(days=200, seed=11)
    good = evaluate(y, freq="D", trained_through=y.index[171].date(), served=served_for(y, 172), expected_mase=0.8)
    assert {c.name for c in good.alerting} == set(th.thresholds_for("D"))
    assert good.drift_fired == [] and good.decay_fired == [], good.why
    assert good.why.startswith("The last 28 days were ") and "Within what it expected" in good.why
    bad = evaluate(
        y, freq="D", trained_through=y.index[171].date(), served=served_for(y, 172, offset=-150), expected_mase=0.8
    )
    assert "bias" in bad.drift_fired
    assert "above what the champion forecast" in bad.why and "Alert: " in bad.why
    # The alert sentence names the fired check that is furthest beyond its threshold.
    top = max((c for c in bad.alerting if c.fired), key=lambda c: c.score)
    assert f"({top.name} {top.statistic:.2f}, threshold " in bad.why


def test_monthly_windows_are_judged_on_three_served_months():
    index = pd.date_range("2015-01-01", periods=60, freq="MS")
    y = pd.Series(100 + np.random.default_rng(2).normal(0, 5, 60), index=index)
    y.index.freq = "MS"
    served = pd.DataFrame({"mean": np.full(3, 100.0)}, index=index[-3:])
    for level, z in ((50, 0.674), (80, 1.2816), (90, 1.645), (95, 1.96), (99, 2.576)):
        served[f"lower_{level}"], served[f"upper_{level}"] = 100 - 5 * z, 100 + 5 * z
    result = evaluate(y, freq="MS", trained_through=index[-4].date(), served=served)
    assert result.window["points"] == 6 and result.served_points == 3
    # no weekly profile, no week-on-week spread
    assert {c.name for c in result.alerting} == {"bias", "mean_score", "cusum_bias", "scale", "coverage"}
    assert result.why.startswith("The last 3 months were ")


def test_the_threshold_class_is_what_the_monitor_knows_of_the_series():
    counts = np.random.default_rng(0).poisson(2.0, 365).astype(float)
    assert th.series_class("D", np.full(365, 1000.0)) == "D"
    assert th.series_class("D", np.full(120, 1000.0)) == "D_short"  # fewer than 180 days of training data
    assert th.series_class("D", counts) == "D_counts" and th.series_class("D", counts + 0.5) == "D"
    assert th.series_class("W", np.ones(30)) == "D_short" and th.series_class("Q", np.ones(40)) == "M"
    assert th.series_class("M", np.ones(60)) == "M" and th.series_class("M", np.ones(24)) == "M_short"
    assert th.thresholds_for("W") is th.ALERTING["D"] and th.thresholds_for("Y") is th.ALERTING["M"]
    assert "spread" not in th.thresholds_for("D_counts")


def test_the_evaluation_names_the_class_its_thresholds_came_from():
    y = daily_sales(days=400, seed=3)
    result = evaluate(y, freq="D", trained_through=y.index[371].date(), served=served_for(y, 372))
    assert result.klass == "D" and all(c.threshold == th.ALERTING["D"][c.name] for c in result.alerting)
    short = evaluate(y.iloc[:150], freq="D", trained_through=y.index[121].date(), served=served_for(y.iloc[:150], 122))
    assert short.klass == "D_short" and all(c.threshold == th.ALERTING["D_short"][c.name] for c in short.alerting)
