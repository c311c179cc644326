"""The AdventureWorks sample: its last month raises no alert under the champion that served it; a shifted copy does."""

import pandas as pd
import pytest

from localrun.sample import SAMPLE
from shared.forecasting import regularize, select_model
from shared.monitoring import thresholds as th
from shared.monitoring.checks import STORED_LEVELS, evaluate
from shared.monitoring.evidence import path_sd

SERVED_THROUGH = "2014-04-30"  # the champion of the April upload served May


@pytest.fixture(scope="module")
def sample() -> pd.Series:
    frame = pd.read_csv(SAMPLE, parse_dates=["TransactionDate"])
    y, _ = regularize(frame.set_index("TransactionDate")["PaidAmount"].astype(float))
    return y


@pytest.fixture(scope="module")
def champion(sample):
    """The model the retrain selects on the data through April, its stored 90-day path and backtest MASE."""
    selection = select_model(sample.loc[:SERVED_THROUGH])
    served = selection.model.predict(90, levels=STORED_LEVELS).clip(lower=0)
    served["version"] = "april"
    served["horizon"] = range(1, 91)
    sds = {"april": path_sd({c: served[c].to_numpy() for c in served.columns[:-2]}, list(STORED_LEVELS))}
    return served, selection.backtest["metrics"]["mase"], sds


def judged(y, champion):
    served, mase, sds = champion
    return evaluate(
        y,
        freq="D",
        trained_through=pd.Timestamp(SERVED_THROUGH).date(),
        served=served,
        expected_mase=mase,
        path_sds=sds,
    )


def test_the_last_month_raises_no_alert(sample, champion):
    result = judged(sample, champion)
    assert result.window == {"start": "2014-05-04", "end": "2014-05-31", "points": 28}
    assert result.served_points == 28 and {c.name for c in result.alerting} == set(th.thresholds_for("D"))
    assert result.drift_fired == [] and result.decay_fired == [], result.why


def test_the_last_month_two_deviations_higher_alerts(sample, champion):
    shifted = sample.copy()
    shifted.loc["2014-05-01":] += 2 * sample.loc[:SERVED_THROUGH].std()
    result = judged(shifted, champion)
    assert (
        result.drift_fired + result.decay_fired
        and "above what the champion forecast" in result.why
        and "Alert:" in result.why
    )
