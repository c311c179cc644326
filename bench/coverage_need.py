"""How much wider the served 95% band would have to be on each held-out set, against what its backtests ask.

Usage (from the repository root, in the bench environment):

    nice .venv-bench/bin/python -m bench.coverage_need [--limit 40]

For the series of `bench.heldout` (the same split and horizon; the first `--limit` of each set), the engine
selects on the training part and serves its calibrated 95% interval. Per set it prints:

* the served band's coverage of the held-out period, and of the selected candidate's backtest windows with
  the same calibration applied;
* the factor by which every served half-width would have to be scaled for the held-out period to reach 93%
  and 95% coverage (the 93rd and 95th percentiles of |actual - mean| / half-width, pooled over the set);
* the factor the backtest windows ask for to reach 95% (the same percentile over the backtest points).

A held-out period that needs a much larger factor than the backtests ask for cannot be met by any
calibration learnt from the training data: what the band lacks there happened after the training ended.
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

from bench.common import machine
from bench.heldout import ADDED, SETUP, load, load_added
from shared.forecasting import select_model
from shared.forecasting.backtest import WindowForecasts
from shared.forecasting.calibration import apply, needed_factors


def one_set(series: list, h: int) -> dict:
    held, backtest = [], []
    for y in series:
        train, actual = y.iloc[:-h], y.to_numpy()[-h:]
        selection = select_model(train, horizon=h)
        frame = selection.model.predict(h, (95,))
        period = WindowForecasts(  # the held-out period as one window, scored as the backtest windows are
            selection.spec,
            [frame["mean"].to_numpy()],
            [{95.0: (frame["lower_95"].to_numpy(), frame["upper_95"].to_numpy())}],
            [actual],
        )
        held.append(needed_factors(period, 95.0))
        windows = selection.windows.get(selection.spec["name"])
        if windows is not None:  # a cold start has no backtest
            backtest.append(needed_factors(apply(windows, selection.model.spec.get("interval", {})), 95.0))
    held_k, backtest_k = np.concatenate(held), np.concatenate(backtest)
    return {
        "held-out coverage": float(np.mean(held_k <= 1)),
        "backtest coverage": float(np.mean(backtest_k <= 1)),
        "held-out needs for 93%": float(np.quantile(held_k, 0.93)),
        "held-out needs for 95%": float(np.quantile(held_k, 0.95)),
        "backtest asks for 95%": float(np.quantile(backtest_k, 0.95)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(machine())
    print(f"{'set':12s} {'series':>6s} {'cov95 held-out':>15s} {'cov95 backtest':>15s} "
          f"{'x for 93%':>10s} {'x for 95%':>10s} {'backtest x':>11s}")  # fmt: skip
    for label, series in {**load(), **load_added()}.items():
        series = series[: args.limit]
        result = one_set(series, SETUP[ADDED.get(label, label)][1])
        print(
            f"{label:12s} {len(series):6d} {result['held-out coverage']:15.1%} {result['backtest coverage']:15.1%} "
            f"{result['held-out needs for 93%']:10.2f} {result['held-out needs for 95%']:10.2f} "
            f"{result['backtest asks for 95%']:11.2f}"
        )


if __name__ == "__main__":
    main()
