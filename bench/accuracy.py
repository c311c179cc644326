"""AdventureWorks accuracy by rolling origin: 6 origins 14 days apart, horizon 28, last window ending 2014-05-31.

"selected" runs the whole selection (candidates, inner backtests, calibration) on each origin's training
data only, so it is a true out-of-sample score of the procedure; each candidate family is likewise
specified on the training data of each origin. The fixed ARIMA(2,0,2) with constant is statsmodels' own
maximum-likelihood fit, the model used before ForecastOps. If `statsforecast` is installed (it is not a
dependency of ForecastOps), its AutoARIMA, AutoETS, AutoTheta and their equal-weight mean are scored on the
same windows in the same run. Columns as in bench.heldout: MASE, ratio to the best peer row, 95% coverage,
scaled pinball loss, CPU-seconds per window.

Usage: python -m bench.accuracy
"""

from __future__ import annotations

import argparse
import time
import warnings

from statsmodels.tsa.arima.model import ARIMA

from bench.common import adventureworks, run_summary
from bench.heldout import LEVELS, PEER_MEAN, equal_mean, frame_bounds, peer_forecasts, record, summary_table
from shared.forecasting import metrics, select_model
from shared.forecasting.backtest import BacktestPlan, splits
from shared.forecasting.families import FAMILIES, resolve_fit

HORIZON, ORIGINS, STEP, SEASON = 28, 6, 14, 7


def plan_for(n: int) -> BacktestPlan:
    cutoffs = tuple(n - HORIZON - STEP * k for k in reversed(range(ORIGINS)))
    return BacktestPlan(HORIZON, STEP, cutoffs, SEASON)


def statsmodels_arima_202(train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ARIMA(train.to_numpy(), order=(2, 0, 2), trend="c").fit()
    forecast = res.get_forecast(HORIZON)
    bounds = {}
    for level in LEVELS:
        ci = forecast.conf_int(alpha=1 - level / 100)
        bounds[level] = (ci[:, 0], ci[:, 1])
    return forecast.predicted_mean, bounds


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    y = adventureworks()
    plan = plan_for(len(y))
    rows: dict[str, list] = {}
    chosen = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for cutoff, train, valid in splits(y, plan):
        actual = valid.to_numpy()
        scale = metrics.mase_scale(train.to_numpy(), SEASON)
        cpu = time.process_time()
        sel = select_model(train, horizon=HORIZON)
        f = sel.model.predict(HORIZON, LEVELS)
        record(rows, "ForecastOps selected", actual, f["mean"], frame_bounds(f), scale, time.process_time() - cpu)
        chosen.append(f"{cutoff.date()}: {sel.spec['name']}")
        for fam in FAMILIES:
            cpu = time.process_time()
            f = resolve_fit(fam, train, "D")[1].predict(HORIZON, LEVELS)
            record(rows, f"ForecastOps {fam}", actual, f["mean"], frame_bounds(f), scale, time.process_time() - cpu)
        cpu = time.process_time()
        mean, bounds = statsmodels_arima_202(train)
        record(rows, "statsmodels ARIMA(2,0,2)", actual, mean, bounds, scale, time.process_time() - cpu)
        peers = peer_forecasts(train, SEASON, HORIZON)
        for name, (mean, bounds, spent) in peers.items():
            record(rows, name, actual, mean, bounds, scale, spent)
        if len(peers) == 3:
            mean, bounds, spent = equal_mean(list(peers.values()))
            record(rows, PEER_MEAN, actual, mean, bounds, scale, spent)
    print(
        f"AdventureWorks, {ORIGINS} origins {STEP} days apart, horizon {HORIZON}, last window ends {y.index[-1].date()}"
    )
    print(f"cutoffs: {[str(c.date()) for c, _, _ in splits(y, plan)]}")
    print(f"selected per origin: {', '.join(chosen)}")
    summary_table("D", ORIGINS, HORIZON, SEASON, rows, {})
    per = " ".join(f"{v[0]:.2f}" for v in rows["ForecastOps selected"])
    print(f"selected per-window MASE: {per}")
    print(run_summary(start, cpu_start))


if __name__ == "__main__":
    main()
