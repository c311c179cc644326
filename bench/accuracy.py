"""AdventureWorks accuracy by rolling origin: 6 origins 14 days apart, horizon 28, last window ending 2014-05-31.

"selected" runs the whole selection (candidates, inner backtests, calibration) on each origin's training
data only, so it is a true out-of-sample score of the procedure; each candidate family is likewise
specified on the training data of each origin. The fixed ARIMA(2,0,2) with constant is statsmodels' own
maximum-likelihood fit, the model used before ForecastOps. If `statsforecast` is installed (it is not a
dependency of ForecastOps), its AutoARIMA and AutoETS are scored on the same windows too.

Usage: python -m bench.accuracy
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from statsmodels.tsa.arima.model import ARIMA

from bench.common import adventureworks, machine
from shared.forecasting import metrics, select_model
from shared.forecasting.backtest import Plan, splits
from shared.forecasting.registry import FAMILIES, build, resolve

HORIZON, ORIGINS, STEP, SEASON = 28, 6, 14, 7


def plan_for(n: int) -> Plan:
    cutoffs = tuple(n - HORIZON - STEP * k for k in reversed(range(ORIGINS)))
    return Plan(HORIZON, STEP, cutoffs, SEASON)


def score(name: str, rows: dict, actual, mean, lower, upper, scale) -> None:
    rows.setdefault(name, []).append(
        (
            metrics.mase(actual, mean, scale),
            metrics.smape(actual, mean),
            metrics.rmse(actual, mean),
            metrics.coverage(actual, lower, upper),
            metrics.msis(actual, lower, upper, 95, scale),
        )
    )


def statsmodels_arima_202(train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ARIMA(train.to_numpy(), order=(2, 0, 2), trend="c").fit()
    frame = res.get_forecast(HORIZON).summary_frame(alpha=0.05)
    return frame["mean"].to_numpy(), frame["mean_ci_lower"].to_numpy(), frame["mean_ci_upper"].to_numpy()


def statsforecast_rows(train) -> dict:
    """statsforecast's AutoARIMA and AutoETS on the same window, when that package is installed."""
    try:
        from statsforecast.models import AutoARIMA, AutoETS
    except ImportError:
        return {}
    out = {}
    for name, model in (
        ("statsforecast AutoARIMA", AutoARIMA(season_length=SEASON)),
        ("statsforecast AutoETS", AutoETS(season_length=SEASON)),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = model.forecast(y=train.to_numpy(), h=HORIZON, level=[95])
        out[name] = (f["mean"], f["lo-95"], f["hi-95"])
    return out


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    y = adventureworks()
    plan = plan_for(len(y))
    rows: dict[str, list] = {}
    chosen = []
    start = time.perf_counter()
    for cutoff, train, valid in splits(y, plan):
        actual = valid.to_numpy()
        scale = metrics.mase_scale(train.to_numpy(), SEASON)
        sel = select_model(train, horizon=HORIZON)
        f = sel.model.predict(HORIZON, (95,))
        score("selected", rows, actual, f["mean"], f["lower_95"], f["upper_95"], scale)
        chosen.append(f"{cutoff.date()}: {sel.spec['name']}")
        for fam in FAMILIES:
            fitted = build(resolve(fam, train, "D")).fit(train)
            f = fitted.predict(HORIZON, (95,))
            score(fam, rows, actual, f["mean"], f["lower_95"], f["upper_95"], scale)
        fixed = build(
            {"name": "arima", "freq": "D", "order": [2, 0, 2], "seasonal_order": [0, 0, 0, 7], "constant": True}
        ).fit(train)
        f = fixed.predict(HORIZON, (95,))
        score("arima(2,0,2) ForecastOps ML", rows, actual, f["mean"], f["lower_95"], f["upper_95"], scale)
        score("arima(2,0,2) statsmodels", rows, actual, *statsmodels_arima_202(train), scale)
        for name, bounds in statsforecast_rows(train).items():
            score(name, rows, actual, *bounds, scale)
    seconds = time.perf_counter() - start
    print(
        f"AdventureWorks, {ORIGINS} origins {STEP} days apart, horizon {HORIZON}, last window ends {y.index[-1].date()}"
    )
    print(f"cutoffs: {[str(c.date()) for c, _, _ in splits(y, plan)]}")
    print(f"selected per origin: {', '.join(chosen)}")
    print(f"{'model':30s} {'MASE':>6s} {'sMAPE':>7s} {'RMSE':>8s} {'cov95':>6s} {'MSIS':>6s}   per-window MASE")
    for name, values in rows.items():
        arr = np.array(values)
        per = " ".join(f"{v:.2f}" for v in arr[:, 0])
        mean = arr.mean(axis=0)
        print(f"{name:30s} {mean[0]:6.3f} {mean[1]:7.2f} {mean[2]:8.1f} {mean[3]:6.3f} {mean[4]:6.2f}   {per}")
    print(f"elapsed {seconds:.1f} s; {machine()}")


if __name__ == "__main__":
    main()
