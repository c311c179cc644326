"""Batch forecasting throughput (series per second) on generated daily and monthly series, all cores.

Each generated series has a random level, trend, seasonal shape, noise level and, for some, a level shift;
monthly series have about 100 observations (90-110) and are forecast 18 months ahead, daily series have 365
observations and are forecast 28 days ahead. The full selection runs for every series (candidates,
rolling-origin backtests, calibration), exactly as in `forecastops forecast`.

Usage: python -m bench.batch_throughput --kind monthly --series 1000 [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import level_trend_season_noise, machine
from shared.forecasting import forecast_file

KINDS = {"monthly": ("MS", 12, 18, (90, 111)), "daily": ("D", 7, 28, (365, 366))}


def generate(kind: str, count: int, seed: int = 0) -> pd.DataFrame:
    """Long-format frame of `count` synthetic series of one kind."""
    freq, m, _, (lo, hi) = KINDS[kind]
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(count):
        n = int(rng.integers(lo, hi))
        t = np.arange(n)
        level, trend, season, noise = level_trend_season_noise(rng, n, m)
        shift = (t > rng.integers(n // 2, n)) * rng.normal(0, 0.1) * level if rng.random() < 0.3 else 0
        values = np.maximum(level + trend + season + shift + noise, 0.0)
        index = pd.date_range("2010-01-01", periods=n, freq=freq)
        parts.append(pd.DataFrame({"series_id": f"{kind}-{i:04d}", "date": index, "value": values}))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=sorted(KINDS), default="monthly")
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    horizon = KINDS[args.kind][2]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        generate(args.kind, args.series).to_csv(src, index=False)
        before = machine()
        start = time.perf_counter()
        report = forecast_file(src, dst, horizon=horizon, level=95, jobs=args.jobs)
        seconds = time.perf_counter() - start
        rows = len(pd.read_csv(dst))
    print(
        f"{args.series} {args.kind} series, horizon {horizon}: {seconds:.1f} s wall, "
        f"{args.series / seconds:.2f} series/s (output rows {rows})"
    )
    cpu = report["cpu_seconds_per_series"]
    print(
        f"CPU time inside the workers: {cpu:.3f} s per series (selection + forecast), "
        f"so at most {args.jobs or os.cpu_count()} / {cpu:.3f} = {(args.jobs or os.cpu_count()) / cpu:.2f} "
        "series/s on idle cores"
    )
    print(f"models chosen: {report['models']}; fallbacks: {len(report['fallbacks'])}")
    print(f"before: {before}")
    print(f"after:  {machine()}")


if __name__ == "__main__":
    main()
