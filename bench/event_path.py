"""The event path at full speed: one many-series upload through Azurite and the runner, against the batch CLI.

A heterogeneous corpus (fixed seed): monthly series with trend and seasonality, daily series with a
weekly pattern, intermittent daily series (many zero days), monthly series with zero months, and short
series of both kinds. The same file goes

* through the batch CLI, `forecastops forecast`, once per frequency with the horizon the retrain's
  backtests use (daily 28, monthly 18), so both paths do the same selection work;
* through the local stack: Azurite on free ports, `python -m localrun serve` with
  FUNCTIONS_WORKER_PROCESS_COUNT workers, one upload of the whole file, timed until every series has a
  champion (from the champions' own Last-Modified times).

Reported for each: wall time, series/s, CPU-seconds per series (the process tree, workers included;
Azurite's node process separately) and peak RSS (sum over the process tree, sampled every 0.2 s). For
the stack also the storage transactions per series, counted from Azurite's access log by operation.

Usage: python -m bench.event_path --series 1000 [--workers 2] [--skip-batch] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import ROOT, level_trend_season_noise, machine
from localrun.azurite import Azurite, free_port

SEED = 20261203
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
# Share of each kind in the corpus: (kind, share).
MIX = (("monthly", 0.35), ("daily", 0.30), ("intermittent", 0.10), ("monthly-zeros", 0.10), ("short", 0.15))
BATCH_HORIZON = {"MS": 18, "D": 28}  # the retrain's backtest horizons (shared.forecasting.backtest.DEFAULT_PLAN)
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) /devstoreaccount1/(?P<path>[^ ?]*)(?:\?(?P<query>[^ ]*))? HTTP')


# -- the corpus ----------------------------------------------------------------------------------------


def _values(rng: np.random.Generator, kind: str, n: int, m: int) -> np.ndarray:
    parts = level_trend_season_noise(rng, n, m, levels=(20, 5000), season_share=0.35, noise_shares=(0.03, 0.2))
    level, trend, season, noise = parts
    values = np.maximum(level + trend + season + noise, 0.0)
    if kind == "intermittent":
        values = np.where(rng.random(n) < rng.uniform(0.3, 0.7), 0.0, rng.gamma(2.0, level / 4, n))
    elif kind == "monthly-zeros":
        values[rng.random(n) < 0.15] = 0.0
    return np.round(values, 2)


def corpus(count: int, seed: int = SEED) -> pd.DataFrame:
    """Long format `series_id,date,value`: `count` series of the kinds in MIX, dates ending before today."""
    rng = np.random.default_rng(seed)
    kinds = [kind for kind, share in MIX for _ in range(round(share * count))]
    kinds = (kinds + ["monthly"] * count)[:count]
    parts = []
    for i, kind in enumerate(kinds):
        if kind == "short":
            daily = rng.random() < 0.5
            n = int(rng.integers(21, 60)) if daily else int(rng.integers(12, 30))
        else:
            daily = kind in ("daily", "intermittent")
            n = int(rng.integers(180, 366)) if daily else int(rng.integers(90, 111))
        freq, m = ("D", 7) if daily else ("MS", 12)
        end = pd.Timestamp("2026-10-31") if daily else pd.Timestamp("2026-10-01")
        index = pd.date_range(end=end, periods=n, freq=freq)
        frame = pd.DataFrame({"series_id": f"{kind}-{i:05d}", "date": index.strftime("%Y-%m-%d")})
        frame["value"] = _values(rng, kind, n, m)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


# -- measuring processes -------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
    return pids


def tree_cpu(pid: int) -> float:
    """CPU-seconds of a process and its descendants, the reaped ones included (utime+stime+cutime+cstime)."""
    total = 0
    for index, current in enumerate(_tree(pid)):
        fields = _stat(current)
        if fields:
            total += int(fields[11]) + int(fields[12])
            if index == 0:
                total += int(fields[13]) + int(fields[14])
    return total / CLOCK_TICKS


def tree_rss(pid: int) -> int:
    total = 0
    for current in _tree(pid):
        fields = _stat(current)
        if fields:
            total += int(fields[21]) * PAGE_BYTES
    return total


class PeakRss:
    """Samples the summed RSS of process trees every 0.2 s; `peak[pid]` is the highest seen."""

    def __init__(self, *pids: int) -> None:
        self.peak = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def add(self, pid: int) -> None:
        self.peak[pid] = 0

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for pid in list(self.peak):
                self.peak[pid] = max(self.peak[pid], tree_rss(pid))


# -- the batch CLI -------------------------------------------------------------------------------------


def run_batch(frame: pd.DataFrame, folder: Path) -> dict:
    """`forecastops forecast` over each frequency's series with the retrain's horizon; summed."""
    result = {"wall_s": 0.0, "cpu_s": 0.0, "peak_rss_mb": 0.0, "series": 0}
    kinds = frame["series_id"].str.startswith(("daily", "intermittent")) | (
        frame["series_id"].str.startswith("short") & frame.groupby("series_id")["date"].transform(_is_daily)
    )
    for freq, part in (("D", frame[kinds]), ("MS", frame[~kinds])):
        src, dst = folder / f"batch-{freq}.csv", folder / f"batch-{freq}-out.csv"
        part.to_csv(src, index=False)
        command = [
            str(Path(sys.executable).parent / "forecastops"), "forecast", "--input", str(src),
            "--horizon", str(BATCH_HORIZON[freq]), "--level", "95", "--output", str(dst), "--no-progress",
        ]  # fmt: skip
        started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with PeakRss(process.pid) as rss:
            sampled = 0.0
            while process.poll() is None:
                sampled = max(sampled, tree_cpu(process.pid))
                time.sleep(0.2)
        wall = time.perf_counter() - started
        if process.returncode:
            raise RuntimeError(f"batch CLI failed: {process.stderr.read().decode()[-2000:]}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        reaped = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        cpu = max(sampled, reaped)  # workers that were never reaped only show in the samples
        result["wall_s"] += wall
        result["cpu_s"] += cpu
        result["peak_rss_mb"] = max(result["peak_rss_mb"], rss.peak[process.pid] / 2**20)
        result["series"] += part["series_id"].nunique()
        rows = pd.read_csv(dst)
        assert rows["series_id"].nunique() == part["series_id"].nunique(), "the batch left series out"
    return result


def _is_daily(dates: pd.Series) -> bool:
    parsed = pd.to_datetime(dates)
    return bool(len(parsed) > 1 and (parsed.iloc[1] - parsed.iloc[0]).days == 1)


# -- the local stack -----------------------------------------------------------------------------------


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def count_transactions(log_text: str, queues: set[str], polled: set[str], work_queue: str) -> Counter:
    """Storage requests in an Azurite access log by (service, operation).

    Requests that poll are counted as "polling": they grow with time, not with the number of series. They
    are the unfiltered listings of the `polled` containers (the runner's scan of the upload container,
    the benchmark's count of champions), queue metadata reads, the receive calls on every queue but
    `work_queue` (the idle monitor and outbox queues) and the benchmark's probes of the upload.
    """
    counts: Counter = Counter()
    for match in ACCESS_LINE.finditer(log_text):
        method, path, query = match["method"], match["path"], match["query"] or ""
        name = path.split("/", 1)[0]
        probing = method == "HEAD" and path.endswith("/estate.csv")
        scan = "comp=list" in query and name in polled and "prefix=" not in query
        idle = name in queues and (
            "/messages" not in path or (name != work_queue and method == "GET" and "peekonly" not in query)
        )
        if probing or scan or idle:
            counts["polling", "list, metadata, probe"] += 1
            continue
        if name in queues:
            op = {"POST": "put message", "GET": "get messages", "DELETE": "delete message"}.get(
                method, "update message"
            )
            counts["queue", op] += 1
            continue
        if "comp=list" in query:
            op = "list"
        elif "comp=lease" in query:
            op = "lease"
        elif "restype=container" in query:
            op = "container " + method.lower()
        elif method == "PUT":
            op = "write"
        elif method == "GET":
            op = "read"
        elif method == "HEAD":
            op = "properties"
        else:
            op = method.lower()
        counts["blob", op] += 1
    return counts


def run_stack(frame: pd.DataFrame, folder: Path, workers: int, timeout: float) -> dict:
    """Upload the whole corpus once through Azurite and the runner; time it until every champion exists."""
    expected = frame["series_id"].nunique()
    azurite = Azurite.on_free_ports()
    access_log = folder / "azurite-access.log"
    command = [c for c in azurite.command() if c != "--silent"]
    node = subprocess.Popen(command, stdout=access_log.open("wb"), stderr=subprocess.STDOUT, cwd=folder)
    try:
        _wait_port(azurite)
        settings_file = folder / "local.settings.json"
        document = json.loads((ROOT / "local.settings.sample.json").read_text())
        document["Values"]["AzureWebJobsStorage"] = azurite.connection_string
        document["Values"]["FUNCTIONS_WORKER_PROCESS_COUNT"] = str(workers)
        settings_file.write_text(json.dumps(document))
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FUNCTIONS_WORKER_PROCESS_COUNT": str(workers)}
        env.pop("AzureWebJobsStorage", None)
        runner_log = folder / "runner.log"
        runner = subprocess.Popen(
            [sys.executable, "-m", "localrun", "serve", "--settings", str(settings_file), "--port", str(port),
             "--app-dir", str(ROOT)],
            env=env, cwd=folder, stdout=runner_log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            return _drive(runner, node, port, azurite, frame, expected, timeout, access_log, runner_log)
        finally:
            runner.send_signal(signal.SIGTERM)
            runner.wait(timeout=30)
    finally:
        node.terminate()
        node.wait(timeout=30)


def _wait_port(azurite: Azurite, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not azurite.already_running():
        if time.monotonic() > deadline:
            raise RuntimeError("Azurite did not start")
        time.sleep(0.1)


def _drive(runner, node, port, azurite, frame, expected, timeout, access_log, runner_log) -> dict:
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueClient

    from shared.settings import Settings
    from shared.storage import BLOB_TRIGGER_POISON_QUEUE, poison_queue_name

    settings = Settings(storage_connection_string=azurite.connection_string, storage_account_name=None)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            _get_json(f"{base}/admin/host/status")
            break
        except OSError:
            if runner.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the runner did not start:\n{runner_log.read_text()[-3000:]}") from None
            time.sleep(0.2)
    time.sleep(2.0)  # the workers import the app
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    models = blobs.get_container_client(settings.models_container)
    incoming = blobs.get_container_client(settings.incoming_container)
    retrain = QueueClient.from_connection_string(azurite.connection_string, settings.retrain_queue)
    data = frame.to_csv(index=False).encode()
    log_offset = access_log.stat().st_size
    cpu_runner, cpu_node = tree_cpu(runner.pid), tree_cpu(node.pid)
    with PeakRss(runner.pid, node.pid) as rss:
        started_wall, started = time.time(), time.perf_counter()
        incoming.upload_blob("estate.csv", data, overwrite=True)
        ingested, champions = None, 0
        end = started + timeout
        while time.perf_counter() < end:
            time.sleep(2.0)
            if ingested is None and not incoming.get_blob_client("estate.csv").exists():
                ingested = time.perf_counter() - started
            if retrain.get_queue_properties().approximate_message_count:
                continue
            pointers = [b for b in models.list_blobs() if b.name.endswith("/champion.json")]
            champions = len(pointers)
            if champions >= expected:
                break
        observed = time.perf_counter() - started
        cpu_runner, cpu_node = tree_cpu(runner.pid) - cpu_runner, tree_cpu(node.pid) - cpu_node
    if champions < expected:
        raise RuntimeError(f"{champions} of {expected} champions after {timeout:.0f}s; see {runner_log}")
    last = max(b.last_modified.timestamp() for b in pointers)
    wall = last - started_wall  # the last champion's own time (1 s resolution), not the poll's
    time.sleep(1.0)
    log_text = access_log.read_bytes()[log_offset:].decode(errors="replace")
    queues = {*settings.queues, *map(poison_queue_name, settings.queues), BLOB_TRIGGER_POISON_QUEUE}
    polled = {settings.incoming_container, settings.models_container}
    transactions = count_transactions(log_text, queues, polled, settings.retrain_queue)
    log_lines = runner_log.read_text(errors="replace")
    stored = {
        name: sum(b.size for b in blobs.get_container_client(name).list_blobs())
        for name in (settings.curated_container, settings.models_container)
    }
    return {
        "series": expected,
        "wall_s": round(wall, 1),
        "observed_s": round(observed, 1),
        "ingest_s": round(ingested, 1) if ingested else None,
        "cpu_runner_s": round(cpu_runner, 1),
        "cpu_azurite_s": round(cpu_node, 1),
        "peak_rss_runner_mb": round(rss.peak[runner.pid] / 2**20),
        "peak_rss_azurite_mb": round(rss.peak[node.pid] / 2**20),
        "transactions": {f"{s} {op}": n for (s, op), n in sorted(transactions.items())},
        "stored_bytes": stored,
        "retrains": log_lines.count("Executed 'Functions.retrain' (Succeeded"),
        "retrain_failures": log_lines.count("Executed 'Functions.retrain' (Failed"),
        "deferred": log_lines.count("deferred"),
    }


def report(batch: dict | None, stack: dict, workers: int) -> dict:
    n = stack["series"]
    lines = [f"{n} series ({', '.join(f'{k} {s:.0%}' for k, s in MIX)}), seed {SEED}"]
    if batch:
        lines.append(
            f"batch CLI:   {batch['wall_s']:.1f} s wall, {n / batch['wall_s']:.2f} series/s, "
            f"{batch['cpu_s'] / n:.3f} CPU-s/series, peak RSS {batch['peak_rss_mb']:.0f} MB"
        )
    cpu = stack["cpu_runner_s"] + stack["cpu_azurite_s"]
    lines.append(
        f"local stack: {stack['wall_s']:.1f} s wall to the last champion (ingest {stack['ingest_s']} s), "
        f"{n / stack['wall_s']:.2f} series/s, {stack['cpu_runner_s'] / n:.3f} CPU-s/series in the runner and its "
        f"{workers} workers + {stack['cpu_azurite_s'] / n:.3f} in Azurite = {cpu / n:.3f}, peak RSS "
        f"{stack['peak_rss_runner_mb']} MB (runner + workers) + {stack['peak_rss_azurite_mb']} MB (Azurite)"
    )
    if batch:
        lines.append(f"ratio stack / batch wall: {stack['wall_s'] / batch['wall_s']:.2f} (target <= 1.3)")
        retrain = stack["wall_s"] - (stack["ingest_s"] or 0)
        lines.append(
            f"after ingest, retrains to the last champion: {retrain:.1f} s, {retrain / batch['wall_s']:.2f} x batch"
        )
    total = sum(stack["transactions"].values())
    polling = sum(v for k, v in stack["transactions"].items() if k.startswith("polling"))
    lines.append(
        f"storage transactions: {total}; without polling {total - polling} = {(total - polling) / n:.1f} per series"
    )
    for name, count in stack["transactions"].items():
        lines.append(f"  {name:<22} {count:>7}  {count / n:6.2f}/series")
    for name, size in stack["stored_bytes"].items():
        lines.append(f"stored in {name}: {size / 2**20:.1f} MiB = {size / n / 1024:.1f} KiB per series")
    lines.append(
        f"retrain invocations {stack['retrains']} succeeded, {stack['retrain_failures']} failed, "
        f"{stack['deferred']} deferred"
    )
    print("\n".join(lines))
    return {"batch": batch, "stack": stack, "workers": workers, "seed": SEED, "mix": dict(MIX)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="FUNCTIONS_WORKER_PROCESS_COUNT")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", type=Path, help="keep the logs in this folder")
    args = parser.parse_args()
    frame = corpus(args.series)
    print(f"before: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        batch = None if args.skip_batch else run_batch(frame, folder)
        stack = run_stack(frame, folder, args.workers, args.timeout)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("runner.log", "azurite-access.log"):
                shutil.copy(folder / name, args.keep / name)
    result = report(batch, stack, args.workers)
    print(f"after:  {machine()}")
    if args.json:
        result["machine"] = machine()
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
