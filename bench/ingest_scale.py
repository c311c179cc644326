"""Ingest at estate scale: one file of many series, and concurrent uploads of disjoint series sets.

Usage (from the repository root):

    nice .venv/bin/python -m bench.ingest_scale --series 10000 --days 120
    nice .venv/bin/python -m bench.ingest_scale --series 10000 --days 120 --uploads 8
    nice .venv/bin/python -m bench.ingest_scale --series 10000 --days 120 --disk

Starts its own Azurite on free ports (in memory, or with `--disk` keeping its data in a temporary folder),
writes the file(s), then ingests them in a child process that runs `process_upload` as the blob trigger
does (with `--uploads N`, N disjoint files in N threads at once). Prints wall time, CPU seconds of the
ingesting process and of Azurite, the ingesting process's peak RSS and the storage requests of the ingest
by kind (from Azurite's access log), then checks that the manifest lists every series and that the retrain
requests cover every series once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_file(series: list[str], days: int, seed: int) -> bytes:
    """A long-format upload: series_id,date,value, `days` consecutive days per series."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    dates = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    lines = ["series_id,date,value"]
    for name in series:
        level = rng.uniform(50, 500)
        lines.extend(f"{name},{d},{level + rng.uniform(-20, 20):.2f}" for d in dates)
    return ("\n".join(lines) + "\n").encode()


def _proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) /devstoreaccount1/(?P<path>[^ ?]*)(?:\?(?P<query>[^ ]*))? HTTP')


def count_requests(log_text: str, settings) -> dict[str, int]:
    """Storage requests in an Azurite access log, by kind; the benchmark's own reads after the ingest included."""
    counts: Counter = Counter()
    queues = {settings.retrain_queue}
    for match in ACCESS_LINE.finditer(log_text):
        method, path, query = match["method"], match["path"], match["query"] or ""
        service = "queue" if path.split("/", 1)[0] in queues else "blob"
        kind = "list" if "comp=list" in query else method
        counts[f"{service} {kind}"] += 1
    counts["total"] = sum(counts.values())
    return dict(sorted(counts.items()))


def child(paths: list[str], settings_env: str) -> None:
    """Ingest the files (concurrently when several) and print one JSON line of measurements."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.ingest import process_upload
    from shared.ingest.curated import read_manifest
    from shared.retrain import expand
    from shared.settings import settings_from_env
    from shared.storage import container, queue

    settings = settings_from_env(json.loads(settings_env))
    files = [(Path(p).name, Path(p).read_bytes()) for p in paths]
    incoming = container(settings.incoming_container, settings)
    for name, data in files:
        incoming.upload_blob(name, data, overwrite=True)
    wall0, cpu0 = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        results = list(pool.map(lambda f: process_upload(f[0], f[1], settings=settings), files))
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    manifest = read_manifest(container(settings.curated_container, settings))
    retrain = queue(settings.retrain_queue, settings)
    requested: list[str] = []
    while batch := list(retrain.receive_messages(messages_per_page=32, visibility_timeout=300)):
        requested += [r["series"] for m in batch for r in expand(json.loads(m.content))]
    print(
        json.dumps(
            {
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "statuses": sorted({r.status for r in results}),
                "series_in_files": sum(len(r.series) for r in results),
                "series_in_manifest": len(manifest["series"]),
                "retrain_requests": sum(len(r.retrain_requests) for r in results),
                "series_requested_once": sorted(requested) == sorted({s for r in results for s in r.series}),
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000, help="series in all files together")
    parser.add_argument("--days", type=int, default=120, help="days per series")
    parser.add_argument("--uploads", type=int, default=1, help="disjoint files ingested at the same time")
    parser.add_argument("--disk", action="store_true", help="Azurite keeps its data on disk, not in memory")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.settings)
        return 0

    sys.path.insert(0, str(ROOT))
    from bench.common import machine
    from localrun.azurite import Azurite
    from shared.storage import ensure_resources
    from tests.conftest import make_settings

    names = [f"store{i // 100:03d}-sku{i % 100:02d}" for i in range(args.series)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k in range(args.uploads):
            part = names[k :: args.uploads]
            path = Path(tmp) / f"estate-part{k}.csv"
            path.write_bytes(make_file(part, args.days, seed=k))
            paths.append(str(path))
        size = sum(Path(p).stat().st_size for p in paths)
        azurite = Azurite.on_free_ports()
        if args.disk:
            azurite.location = Path(tmp) / "azurite"
            azurite.location.mkdir()
        access_log = Path(tmp) / "azurite-access.log"
        command = [c for c in azurite.command() if c != "--silent"]
        azurite.process = subprocess.Popen(command, stdout=access_log.open("wb"), stderr=subprocess.STDOUT, cwd=tmp)
        try:
            while not azurite.already_running():
                time.sleep(0.1)
            settings = make_settings(azurite.connection_string)
            ensure_resources(settings)
            azurite_cpu0 = _proc_cpu_seconds(azurite.process.pid)
            log_offset = access_log.stat().st_size
            env = {**settings.as_env(), "AzureWebJobsStorage": azurite.connection_string}
            out = subprocess.run(
                [sys.executable, "-m", "bench.ingest_scale", "--settings", json.dumps(env), "--child", *paths],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            azurite_cpu = _proc_cpu_seconds(azurite.process.pid) - azurite_cpu0
            time.sleep(0.5)
            requests = count_requests(access_log.read_bytes()[log_offset:].decode(errors="replace"), settings)
        finally:
            azurite.stop()
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return out.returncode
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["azurite_cpu_s"] = round(azurite_cpu, 2)
    result["azurite"] = "disk" if args.disk else "in memory"
    result["storage_requests"] = requests
    print(
        f"{args.series} series x {args.days} days ({args.series * args.days} rows, {size / 1e6:.1f} MB) "
        f"in {args.uploads} upload(s)"
    )
    for key, value in result.items():
        print(f"  {key}: {value}")
    print(f"  {machine()}")
    ok = result["series_in_manifest"] == args.series and result["statuses"] == ["accepted"]
    ok = ok and result["series_requested_once"]
    print("  every series in the manifest" if ok else "  SERIES MISSING FROM THE MANIFEST")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
