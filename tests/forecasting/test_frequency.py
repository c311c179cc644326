"""Frequency inference, regular calendars and gap filling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shared.forecasting import infer_frequency, regularize
from shared.forecasting.frequency import future_index, season_length


@pytest.mark.parametrize(
    ("start", "freq", "expected", "season"),
    [
        ("2024-01-01", "D", "D", 7),
        ("2024-01-07", "W-SUN", "W-SUN", 52),
        ("2024-01-03", "W-WED", "W-WED", 52),
        ("2020-01-01", "MS", "MS", 12),
        ("2020-01-31", "ME", "ME", 12),
        ("2020-01-01", "QS", "QS", 4),
        ("2020-03-31", "QE", "QE", 4),
        ("2020-02-01", "QS-FEB", "QS-FEB", 4),
        ("2000-01-01", "YS", "YS", 1),
        ("2000-12-31", "YE", "YE", 1),
    ],
)
def test_infers_each_frequency_and_its_season(start, freq, expected, season):
    index = pd.date_range(start, periods=12, freq=freq)
    assert infer_frequency(index) == expected
    assert season_length(expected) == season
    # The alias reproduces the same calendar.
    assert pd.date_range(start, periods=12, freq=expected).equals(index)


def test_inference_tolerates_gaps_but_not_irregular_dates():
    index = pd.date_range("2024-01-01", periods=30, freq="D").delete([5, 6, 17])
    assert infer_frequency(index) == "D"
    with pytest.raises(ValueError, match="irregular"):
        infer_frequency(pd.DatetimeIndex(["2024-01-01", "2024-01-04", "2024-01-09", "2024-01-12"]))
    with pytest.raises(ValueError, match="month starts or all month ends"):
        infer_frequency(pd.DatetimeIndex(["2024-01-15", "2024-02-15", "2024-03-15"]))
    with pytest.raises(ValueError, match="duplicate"):
        infer_frequency(pd.DatetimeIndex(["2024-01-01", "2024-01-01", "2024-01-02"]))


def test_regularize_fills_gaps_by_interpolation_and_counts_them():
    index = pd.date_range("2024-01-01", periods=10, freq="D")
    y = pd.Series(np.arange(10, dtype=float), index=index).drop(index[[3, 4]])
    y.iloc[6] = np.nan  # a present date with a missing value is filled too
    regular, filled = regularize(y)
    assert filled == 3
    assert regular.index.equals(index)
    np.testing.assert_allclose(regular.to_numpy(), np.arange(10, dtype=float))


def test_regularize_rejects_off_calendar_dates():
    y = pd.Series([1.0, 2.0, 3.0], index=pd.DatetimeIndex(["2024-01-07", "2024-01-14", "2024-01-22"]))
    with pytest.raises(ValueError):
        regularize(y, "W-SUN")


def test_future_index_continues_the_calendar():
    assert list(future_index(pd.Timestamp("2024-01-31"), "ME", 2)) == [
        pd.Timestamp("2024-02-29"),
        pd.Timestamp("2024-03-31"),
    ]
    assert future_index(pd.Timestamp("2023-10-01"), "QS", 1)[0] == pd.Timestamp("2024-01-01")
