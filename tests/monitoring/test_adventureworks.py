"""The AdventureWorks sample: its own last 28 days show no drift against the months before; a shifted copy does."""

import numpy as np
import pandas as pd
import pytest

from localrun.sample import SAMPLE
from shared.forecasting import regularize
from shared.forecasting.backtest import forecast_windows, plan_windows, summarize, window_scores
from shared.forecasting.families import build
from shared.forecasting.naive import SeasonalNaive
from shared.monitoring.checks import evaluate
from shared.monitoring.decay import one_step_errors

WINDOW = 28


@pytest.fixture(scope="module")
def sample() -> pd.Series:
    frame = pd.read_csv(SAMPLE, parse_dates=["TransactionDate"])
    y, _ = regularize(frame.set_index("TransactionDate")["PaidAmount"].astype(float))
    return y


def seasonal_naive_inputs(y: pd.Series, train: pd.Series):
    """A seasonal-naive champion on `train`: its served 90-day path, backtest MASE and one-step errors."""
    model = SeasonalNaive({"name": "snaive", "freq": "D"}).fit(train)
    windows = forecast_windows(model.spec, train, plan_windows(len(train), "D"), build)
    served = model.predict(90, levels=(80, 95)).assign(version="snaive")
    errors = one_step_errors(y, model.spec, range(len(y) - WINDOW, len(y)))
    return served, summarize(window_scores(windows))["mase"], errors


def test_the_last_month_shows_no_drift_and_no_decay(sample):
    train = sample.iloc[:-WINDOW]
    served, mase, errors = seasonal_naive_inputs(sample, train)
    result = evaluate(
        sample, freq="D", trained_through=train.index[-1].date(), served=served, expected_mase=mase, one_step=errors
    )
    assert result.window == {"start": "2014-05-04", "end": "2014-05-31", "points": 28}
    assert result.reference == {"start": "2013-07-31", "end": "2014-05-03", "points": 277}
    assert len(result.drift) == 6 and len(result.decay) == 3
    assert result.drift_fired == [] and result.decay_fired == []


def test_the_last_month_one_deviation_higher_is_drift(sample):
    shifted = sample.copy()
    shifted.iloc[-WINDOW:] += np.std(sample.iloc[:-WINDOW]) * 1.0
    result = evaluate(shifted, freq="D", trained_through=shifted.index[-WINDOW - 1].date())
    assert {"psi", "level_shift"} <= set(result.drift_fired)
