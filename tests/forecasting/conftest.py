"""Small synthetic series shared by the forecasting tests (each test builds its own copy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def seasonal_series(n: int = 96, freq: str = "MS", m: int = 12, seed: int = 1, start: str = "2015-01-01"):
    """Positive series with level 100, a slow trend, a seasonal swing of +-20 and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 + 0.3 * t + 20 * np.sin(2 * np.pi * t / m) + rng.normal(0, 3, n)
    return pd.Series(values, index=pd.date_range(start, periods=n, freq=freq))


@pytest.fixture
def monthly():
    return seasonal_series()
