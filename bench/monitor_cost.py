"""The monitor's cost on a real Azurite: the timer's fan-out over 10,000 series and seconds per series checked.

Timer: `--timer-series` series (default 10,000) in the models container (one pointer blob each, which is
all the timer lists), then one timed `enqueue_checks` run: listing, batching and sending the check
requests, wall and CPU seconds.

Checks: `--series` daily series (default 40) of 330 days with a weekly pattern and a trend, each retrained
twice through the production retrain (`shared.retrain.handle_request`: the first 302 days, then all), so
the window's days were served by the first champion; then every check request of one run is handled
as the queue function does (`shared.monitoring.fanout.handle_request`), timed in wall and CPU seconds
per series (reports, alert state and the fleet index entries written to Azurite included).

Usage: python -m bench.monitor_cost [--timer-series 10000] [--series 40] [--json F]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from bench.common import machine
from localrun.azurite import Azurite
from shared.ingest.curated import merge_series, update_manifest
from shared.monitoring.config import MonitorSettings
from shared.monitoring.fanout import enqueue_checks, handle_request
from shared.retrain import handle_request as retrain
from shared.settings import Settings
from shared.storage import container, ensure_resources, queue, write_json

HISTORY = 330
FIRST_TRAINING = 302


def settings_for(azurite: Azurite, tag: str) -> Settings:
    names = {
        f: f"{f.split('_')[0][:4]}-{tag}"
        for f in (
            "incoming_container",
            "archive_container",
            "quarantine_container",
            "curated_container",
            "models_container",
            "monitoring_container",
        )
    }
    return Settings(
        storage_connection_string=azurite.connection_string,
        storage_account_name=None,
        retrain_queue=f"retrain-{tag}",
        monitor_queue=f"monreq-{tag}",
        **names,
    )


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_timer(azurite: Azurite, count: int) -> dict:
    settings = settings_for(azurite, "timer")
    ensure_resources(settings)
    models = container(settings.models_container, settings)
    names = [f"store{i // 100:03d}-sku{i % 100:02d}" for i in range(count)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: write_json(models, f"{n}/champion.json", {"version": "v1"}), names))
    summary, wall, cpu = timed(lambda: enqueue_checks(settings, now=datetime.now(UTC)))
    depth = queue(settings.monitor_queue, settings).get_queue_properties().approximate_message_count
    return {"series": summary["series"], "requests": summary["requests"], "queued": depth, "wall_s": wall, "cpu_s": cpu}


def sales(seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2023-01-02", periods=HISTORY, freq="D")
    weekly = rng.uniform(-0.3, 0.3, 7)
    growth = rng.uniform(-0.4, 0.6)
    t = np.arange(HISTORY)
    values = 1000 * (1 + growth) ** (t / 365) * (1 + weekly[index.day_of_week]) * (1 + rng.normal(0, 0.1, HISTORY))
    return pd.Series(values, index=index)


def bench_checks(azurite: Azurite, count: int) -> dict:
    settings = settings_for(azurite, "checks")
    ensure_resources(settings)
    curated = container(settings.curated_container, settings)
    names = [f"series-{i:03d}" for i in range(count)]
    started = time.perf_counter()
    for i, name in enumerate(names):
        y = sales(i)
        for end in (FIRST_TRAINING, HISTORY):
            outcome = merge_series(curated, name, {d.date(): float(v) for d, v in y.iloc[:end].items()})
            update_manifest(curated, [name])
            retrain({"series": name, "dataset_version": outcome.version, "reason": "bench"}, settings=settings)
    prepared = time.perf_counter() - started
    now = datetime.now(UTC)
    enqueue_checks(settings, now=now)
    client = queue(settings.monitor_queue, settings)
    bodies = [json.loads(m.content) for m in client.receive_messages(max_messages=32)]
    reports, wall, cpu = timed(
        lambda: [r for body in bodies for r in handle_request(body, settings, now=now, monitor=MonitorSettings())]
    )
    statuses: dict[str, int] = {}
    for report in reports:
        statuses[report["status"]] = statuses.get(report["status"], 0) + 1
    served = [r["window"]["served"] for r in reports]
    return {
        "series": len(reports),
        "statuses": statuses,
        "served_points_median": float(np.median(served)),
        "wall_s_per_series": wall / len(reports),
        "cpu_s_per_series": cpu / len(reports),
        "prepare_s": prepared,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timer-series", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=40)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    print(machine())
    azurite = Azurite.on_free_ports().start()
    try:
        out = {}
        if args.series:
            out["checks"] = bench_checks(azurite, args.series)
        if args.timer_series:
            out["timer"] = bench_timer(azurite, args.timer_series)
    finally:
        azurite.stop()
    print(json.dumps(out, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
