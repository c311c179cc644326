"""Wall time of a full retrain of AdventureWorks: selection with every candidate, backtests and calibration.

Runs `select_model` on the whole series (first as a new series, then again against the chosen spec as
champion, which adds the champion's backtest and refit), `--repeat` times each in one process after one
warm-up call that pays the import and first-call costs, and prints each time.

Usage: python -m bench.retrain_time [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import adventureworks, machine
from shared.forecasting import select_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    y = adventureworks()
    start = time.perf_counter()
    first = select_model(y)
    cold = time.perf_counter() - start
    print(f"first call in a fresh process (includes lazy imports): {cold:.2f} s")
    for label, champion in (("no champion", None), ("with champion", first.spec)):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            sel = select_model(y, champion_spec=champion)
            times.append(time.perf_counter() - start)
        print(
            f"{label}: median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s "
            f"over {args.repeat} runs; selected {sel.spec['name']}, promote={sel.decision['promote']}"
        )
    print(machine())


if __name__ == "__main__":
    main()
