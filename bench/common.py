"""Shared helpers of the benchmark scripts: the AdventureWorks series, load average, timing records."""

from __future__ import annotations

import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shared.forecasting import regularize

ROOT = Path(__file__).resolve().parents[1]
ADVENTUREWORKS = ROOT / "data" / "adventureworks_daily_transactions.csv"


def adventureworks() -> pd.Series:
    """Daily PaidAmount of the sample data on its regular daily calendar."""
    df = pd.read_csv(ADVENTUREWORKS, parse_dates=["TransactionDate"])
    y = df.set_index("TransactionDate")["PaidAmount"].astype(float)
    regular, _ = regularize(y)
    return regular


def machine() -> str:
    """Cores, Python and current load average, for the record next to each number."""
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)"
    )


def run_summary(start: float, cpu_start: float) -> str:
    """Wall and CPU seconds since `start`/`cpu_start` (perf_counter, process_time), peak RSS and the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (
        f"{time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu_start:.0f} CPU-s in all; "
        f"peak RSS {usage.ru_maxrss // 1024} MB; {machine()}"
    )


def level_trend_season_noise(
    rng: np.random.Generator,
    n: int,
    m: int,
    levels: tuple[float, float] = (50, 5000),
    season_share: float = 0.3,
    noise_shares: tuple[float, float] = (0.02, 0.15),
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Level, trend, seasonal and noise parts of a synthetic series of n points, season length m (fixed draw order)."""
    t = np.arange(n)
    level = rng.uniform(*levels)
    shape = rng.normal(0, 1, m)
    season = rng.uniform(0, season_share) * level * (shape - shape.mean()) / (shape.std() or 1)
    trend = rng.normal(0, 0.004) * level * t
    noise = rng.normal(0, rng.uniform(*noise_shares) * level, n)
    return level, trend, season[t % m], noise
