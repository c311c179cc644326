"""Where a selection's fitting time goes: residual evaluations and the solver around them, per family.

Usage (from the repository root):

    nice .venv/bin/python -m bench.fit_evaluations [--series 40] [--seed 7]

Runs `select_model` (horizon 18) on generated monthly series (bench.batch_throughput's generator) with
every call of the solver (`shared.forecasting.optim.minimize_squares`) from the ARIMA and the ETS code
counted: per series, the number of residual evaluations, the CPU inside them, and the CPU of the solver
calls around them (scipy's bookkeeping and the Jacobian's Python). Evaluation counts do not depend on
the machine's load, so they compare two versions of the solver exactly; the CPU figures are noisy on a
shared machine.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import defaultdict

from bench.batch_throughput import generate
from bench.common import machine


def instrument(stats: dict) -> None:
    """Count the solver calls of the ARIMA (unbounded) and ETS (bounded) code into `stats[family]`."""
    from shared.forecasting import arima, etscore, optim

    def counted(family: str):
        def minimize(fun, x0, bounds=None, tol=1e-6, max_nfev=None):
            record = stats[family]

            def residuals(x):
                started = time.process_time()
                try:
                    return fun(x)
                finally:
                    record["evaluations"] += 1
                    record["inside"] += time.process_time() - started

            started = time.process_time()
            try:
                return optim.minimize_squares(residuals, x0, bounds, tol, max_nfev)
            finally:
                record["fits"] += 1
                record["solver"] += time.process_time() - started

        return minimize

    arima.minimize_squares = counted("arima")
    etscore.minimize_squares = counted("ets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    from shared.forecasting import select_model
    from shared.forecasting.batch import parse_frame

    series, _, _ = parse_frame(generate("monthly", args.series, seed=args.seed))
    stats: dict = defaultdict(lambda: defaultdict(float))
    instrument(stats)
    started = time.process_time()
    for y in series.values():
        select_model(y, horizon=18)
    total = (time.process_time() - started) / len(series)
    print(f"{len(series)} generated monthly series (seed {args.seed}); {machine()}")
    print(f"selection: {total * 1e3:.0f} CPU-ms per series")
    for family, record in sorted(stats.items()):
        n = len(series)
        print(
            f"{family:5s}: {record['fits'] / n:5.1f} fits, {record['evaluations'] / n:6.0f} residual evaluations, "
            f"{record['solver'] / n * 1e3:5.1f} CPU-ms in the solver calls, of which {record['inside'] / n * 1e3:5.1f} "
            "in the residuals (per series)"
        )


if __name__ == "__main__":
    main()
