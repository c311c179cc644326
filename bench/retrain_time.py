"""CPU and wall time of a full retrain of AdventureWorks: selection with every candidate, backtests and calibration.

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
        times, cpus = [], []
        for _ in range(args.repeat):
            start, cpu = time.perf_counter(), time.process_time()
            sel = select_model(y, champion_spec=champion)
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        print(
            f"{label}: CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f}, max {max(cpus):.2f}); "
            f"wall median {statistics.median(times):.2f} s over {args.repeat} runs; "
            f"selected {sel.spec['name']}, promote={sel.decision['promote']}"
        )
    print(machine())


if __name__ == "__main__":
    main()
