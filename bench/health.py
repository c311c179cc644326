"""Public /api/health with a 10,000-series estate in Azurite: p50/p95 latency and CPU, and the fleet endpoints.

Usage: nice .venv/bin/python bench/health.py [--series 10000] [--requests 500] [--old]

Starts its own in-memory Azurite on free ports, writes the estate (the fleet index entry per series with
the metadata `shared.fleet.record_champion` and `record_check` leave; with `--old` also a champion pointer
per series in `models`), counts it once (`shared.fleet.summarize`, what the `fleet_summary` timer does), then
serves the real function app with the local runner and sends sequential keep-alive GETs over loopback.
CPU seconds are this process (client and runner, same process) plus the Azurite process, read from /proc.
`--old` also times the health of before (one pointer read per series) once. Results go to
bench/results/health.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import machine  # noqa: E402
from localrun import Runner  # noqa: E402
from localrun.azurite import Azurite  # noqa: E402
from shared import fleet  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.storage import container, ensure_resources, write_json  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "health.json"
STATUSES = ["ok"] * 16 + ["drift", "decay", "error", "not-checked"]


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(azurite: Azurite) -> float:
    return time.process_time() + process_cpu(azurite.process.pid)


def seed(settings: Settings, count: int, pointers: bool) -> float:
    """The estate: a fleet entry per series, and with `pointers` a champion pointer (16 writers); returns seconds.

    Each entry is written in one request with the metadata `record_champion` and `record_check` leave, and
    its status index blob in another (their read-merge-write costs more requests, which would only make the
    seeding slower).
    """
    models = container(settings.models_container, settings)
    monitoring = container(settings.monitoring_container, settings)

    def one(i: int) -> None:
        name = f"store-{i // 20:04d}-sku-{i % 20:02d}"
        pointer = {"series": name, "version": f"v{i:06d}", "promoted_at": "2026-11-30T02:00:00+00:00", "history": []}
        if pointers:
            write_json(models, f"{name}/champion.json", pointer)
        card = {"spec": {"name": "ets"}, "metrics": {"mase": 0.5 + (i % 97) / 100}, "dataset": {"end": "2026-11-30"}}
        fields = fleet.champion_fields(card, pointer)
        status = STATUSES[i % len(STATUSES)]
        if status != "not-checked":
            fields.update(status=status, checked_at="2026-12-01T02:30:00+00:00")
        metadata = {k: fleet.text(v) for k, v in fields.items()}
        monitoring.upload_blob(fleet.entry_name(name), b"", metadata=metadata, overwrite=True)
        fleet.index_status(monitoring, name, metadata, None)

    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        for done, _ in enumerate(pool.map(one, range(count)), 1):
            if done % 1000 == 0:
                print(f"seeded {done} series in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def timed_gets(host: str, port: int, path: str, count: int, azurite: Azurite) -> dict:
    """`count` sequential GETs on one keep-alive connection: latency percentiles, CPU, body size."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    latencies, sizes, statuses = [], set(), set()
    cpu0 = cpu_now(azurite)
    wall0 = time.perf_counter()
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        sizes.add(len(body))
        statuses.add(response.status)
    wall = time.perf_counter() - wall0
    cpu = cpu_now(azurite) - cpu0
    connection.close()
    latencies.sort()
    return {
        "path": path,
        "requests": count,
        "statuses": sorted(statuses),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (count - 1))], 2),
        "max_ms": round(latencies[-1], 2),
        "cpu_ms_per_request": round(1000 * cpu / count, 2),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "body_bytes": sorted(sizes),
        "last_body": json.loads(body) if path.startswith("/api/health") else None,
    }


def old_health_seconds(settings: Settings) -> float:
    """The health of before: list the registry, read every champion pointer."""
    from shared.registry import list_series, read_champion

    models = container(settings.models_container, settings)
    started = time.perf_counter()
    champions = {s: read_champion(models, s)[0]["version"] for s in list_series(models)}
    assert len(champions) > 0
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--old", action="store_true", help="also time the per-series health of before, once")
    args = parser.parse_args(argv)

    azurite = Azurite.on_free_ports().start()
    try:
        settings = Settings(storage_connection_string=azurite.connection_string, storage_account_name=None)
        ensure_resources(settings)
        seed_seconds = seed(settings, args.series, pointers=args.old)
        cpu0, wall0 = cpu_now(azurite), time.perf_counter()
        summary = fleet.summarize(container(settings.monitoring_container, settings))
        summarize = {
            "wall_seconds": round(time.perf_counter() - wall0, 2),
            "cpu_seconds": round(cpu_now(azurite) - cpu0, 2),
        }
        assert summary["counts"]["series"] == args.series, summary["counts"]
        print(f"fleet summary in {summarize['wall_seconds']} s", file=sys.stderr, flush=True)
        for key, value in settings.as_env().items():
            os.environ[key] = value
        runs = []
        with Runner(port=0, poll_interval=5.0) as runner:
            host, port = "127.0.0.1", runner.port
            timed_gets(host, port, "/api/health", 20, azurite)  # warm-up: clients, connection, caches
            runs.append(timed_gets(host, port, "/api/health", args.requests, azurite))
            runs.append(timed_gets(host, port, "/api/series?limit=50", 50, azurite))
            runs.append(timed_gets(host, port, "/api/series?limit=50&status=drift", 10, azurite))
            runs.append(timed_gets(host, port, "/api/fleet", 20, azurite))
            runs.append(timed_gets(host, port, "/api/health/detail", 20, azurite))
            runs.append(timed_gets(host, port, "/api/dashboard", 20, azurite))
        old = round(old_health_seconds(settings), 1) if args.old else None
    finally:
        azurite.stop()
    result = {
        "command": "nice .venv/bin/python bench/health.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "series": args.series,
        "seed_seconds": round(seed_seconds, 1),
        "summarize": summarize,
        "old_health_seconds": old,
        "runs": runs,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.series} series; {result['machine']}")
    print(f"seeded in {result['seed_seconds']} s; fleet summary {summarize['wall_seconds']} s", end=" ")
    print(f"({summarize['cpu_seconds']} CPU s)")
    print("| path | requests | p50 ms | p95 ms | CPU ms/request | body bytes |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        sizes = (
            "–".join(str(s) for s in (run["body_bytes"][0], run["body_bytes"][-1]) if s) if run["body_bytes"] else ""
        )
        cells = [f"`{run['path']}`", run["requests"], run["p50_ms"], run["p95_ms"], run["cpu_ms_per_request"], sizes]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    if old is not None:
        print(f"health of before (one pointer read per series): {old} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
