"""Shared helpers of the benchmark scripts: the AdventureWorks series, load average, timing records."""

from __future__ import annotations

import os
import platform
from pathlib import Path

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
