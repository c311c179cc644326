"""Storage outage benchmark: how fast /api/forecast answers while Azurite is stopped or frozen.

Run: nice .venv/bin/python bench/storage_outage.py [--requests 20]
Serves the real function_app.py with the local runner over real HTTP against a dedicated Azurite (on
disk, free ports). Per outage kind ("stopped": the process is gone, connections are refused; "frozen":
SIGSTOP, connections hang like a network black hole) it times: the first request for a warm series
after its cache entry expired (it pays the bounded revalidation), the following requests (served
stale without waiting), and a series never served in this process (503). Writes
bench/results/storage_outage.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import machine  # noqa: E402
from localrun.azurite import Azurite  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.storage import ensure_resources  # noqa: E402
from tests.factories import publish  # noqa: E402

CACHE_SECONDS = 2


def get(url: str) -> tuple[int, dict[str, str], float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            status, headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        exc.read()
        status, headers = exc.code, dict(exc.headers)
    return status, headers, time.perf_counter() - started


def run(kind: str, requests: int, workdir: Path) -> dict:
    from localrun import Runner

    azurite = Azurite.on_free_ports()
    azurite.location = workdir / kind
    azurite.start()
    settings = Settings(
        storage_connection_string=azurite.connection_string,
        storage_account_name=None,
        champion_cache_seconds=CACHE_SECONDS,
    )
    ensure_resources(settings)
    publish(settings, series="warm")
    publish(settings, series="cold")
    os.environ.update(settings.as_env())
    from shared.api import default_service
    from shared.settings import get_settings

    get_settings.cache_clear()
    default_service.cache_clear()
    try:
        with Runner(port=0, poll_interval=0.5) as runner:
            url = f"{runner.base_url}/api/forecast?horizon=28&series="
            assert get(url + "warm")[0] == 200
            if kind == "stopped":
                azurite.stop()
            else:
                os.kill(azurite.process.pid, signal.SIGSTOP)
            time.sleep(CACHE_SECONDS + 0.1)
            cpu = time.process_time()
            first = get(url + "warm")
            rest = [get(url + "warm") for _ in range(requests)]
            cold = get(url + "cold")
            time.sleep(CACHE_SECONDS + 0.1)  # the breaker window is over: the cold series waits on storage again
            cold_probe = get(url + "cold")
            cpu = time.process_time() - cpu
            if kind == "frozen":
                os.kill(azurite.process.pid, signal.SIGCONT)
    finally:
        if azurite.process is not None and azurite.process.poll() is None:
            os.kill(azurite.process.pid, signal.SIGCONT)
        azurite.stop()
    return {
        "kind": kind,
        "warm_first": {"status": first[0], "seconds": round(first[2], 3), "stale": "X-Forecast-Stale" in first[1]},
        "warm_next": {
            "statuses": sorted({r[0] for r in rest}),
            "median_seconds": round(statistics.median(r[2] for r in rest), 4),
            "max_seconds": round(max(r[2] for r in rest), 4),
        },
        "cold_in_breaker_window": {"status": cold[0], "seconds": round(cold[2], 3)},
        "cold_after_window": {"status": cold_probe[0], "seconds": round(cold_probe[2], 3)},
        "cpu_seconds_in_process": round(cpu, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(kind, args.requests, Path(tmp)) for kind in ("stopped", "frozen")]
    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    record = {
        "machine": machine(),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds_self": round(usage_self.ru_utime + usage_self.ru_stime, 2),
        "cpu_seconds_children": round(usage_children.ru_utime + usage_children.ru_stime, 2),
        "results": results,
    }
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "storage_outage.json").write_text(json.dumps(record, indent=2))
    print("| outage | warm, first request | warm, next requests (median / max) | cold series | cold, later |")
    print("|---|---|---|---|---|")
    for r in results:
        first, rest = r["warm_first"], r["warm_next"]
        print(
            f"| {r['kind']} | {first['status']}{' stale' if first['stale'] else ''} in {first['seconds']} s "
            f"| {rest['statuses']} in {rest['median_seconds']} / {rest['max_seconds']} s "
            f"| {r['cold_in_breaker_window']['status']} in {r['cold_in_breaker_window']['seconds']} s "
            f"| {r['cold_after_window']['status']} in {r['cold_after_window']['seconds']} s |"
        )
    print(
        f"wall {record['wall_seconds']} s, CPU {record['cpu_seconds_self']} s (this process) + "
        f"{record['cpu_seconds_children']} s (Azurite); {record['machine']}"
    )


if __name__ == "__main__":
    main()
