"""Serving benchmark: wrk load on the forecast endpoint (idle and during a retrain), a baseline, cold start.

Run: .venv/bin/python bench/serving_load.py [--seconds 10]   (needs Debian's wrk; loopback only)
Writes bench/results/serving_load.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from localrun.azurite import Azurite, free_port  # noqa: E402
from localrun.sample import monthly_files  # noqa: E402
from shared.ingest import process_upload  # noqa: E402
from shared.retrain import handle_request  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.storage import container, ensure_resources  # noqa: E402

CONNECTIONS = (1, 16, 64)
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, connections: int, seconds: int) -> dict:
    threads = min(2, connections)
    cmd = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return round(float(value) * UNIT[unit], 3)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "connections": connections,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def wait_http(url: str, timeout: float = 60) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


def start_runner(env: dict, port: int, app_dir: Path) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "localrun",
        "--log-level",
        "WARNING",
        "serve",
        "--settings",
        "/nonexistent",
        "--port",
        str(port),
        "--app-dir",
        str(app_dir),
        "--poll-interval",
        "0.5",
    ]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def import_time() -> float:
    """Cumulative microseconds of `import function_app` in a fresh interpreter, as milliseconds."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function_app"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    line = [row for row in out.splitlines() if row.rstrip().endswith("| function_app")][-1]
    return int(line.split("|")[1]) / 1000


def baseline_model(path: Path, series) -> None:
    import joblib
    from statsmodels.tsa.arima.model import ARIMA

    joblib.dump(ARIMA(series, order=(2, 0, 2)).fit(), path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    azurite = Azurite.on_free_ports().start()
    work = Path(tempfile.mkdtemp(prefix="forecastops-bench-"))
    procs: list[subprocess.Popen] = []
    try:
        settings = Settings(storage_connection_string=azurite.connection_string, storage_account_name=None)
        ensure_resources(settings)
        months = monthly_files()
        for name, data in months:
            request = process_upload(name, data, settings=settings).retrain_requests[-1]
        handle_request(request, settings=settings)
        env = {**os.environ, **settings.as_env(), "INGEST_TRIGGER_SOURCE": "LogsAndContainerScan"}

        import pandas as pd

        curated = pd.read_csv(REPO / "data" / "adventureworks_daily_transactions.csv", index_col=0, parse_dates=True)
        series = curated.iloc[:, 0].asfreq("D")
        baseline_model(work / "arima202.joblib", series)
        env["BASELINE_MODEL"] = str(work / "arima202.joblib")

        results: dict = {"machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()}}
        results["import_function_app_ms"] = min(import_time() for _ in range(3))

        port = free_port()
        procs.append(start_runner(env, port, REPO))
        url = f"http://127.0.0.1:{port}/api/forecast?series=total&horizon=28&level=95"
        results["fresh_process_first_forecast_s"] = round(wait_http(url), 3)

        base_port = free_port()
        procs.append(start_runner(env, base_port, REPO / "bench" / "baseline_app"))
        base_url = f"http://127.0.0.1:{base_port}/api/forecast?horizon=28"
        wait_http(base_url)

        results["idle"] = [wrk(url, c, args.seconds) for c in CONNECTIONS]
        results["baseline"] = [wrk(base_url, c, args.seconds) for c in CONNECTIONS]

        # During a retrain: a restated day makes a new dataset version; the runner retrains while wrk runs.
        restated = b"TransactionDate,PaidAmount\n2014-05-30,1600.0\n"
        container(settings.incoming_container, settings).upload_blob("restated.csv", restated)
        time.sleep(1.0)
        during = wrk(url, 16, args.seconds)
        models = container(settings.models_container, settings)
        champion = json.loads(models.download_blob("total/champion.json").readall())
        during["champion_changed_during_run"] = champion["reason"]
        results["during_retrain"] = during

        for name, base in zip(CONNECTIONS, results["baseline"], strict=True):
            ours = next(r for r in results["idle"] if r["connections"] == name)
            ours["throughput_vs_baseline"] = round(ours["requests_per_s"] / base["requests_per_s"], 1)
        out = REPO / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "serving_load.json").write_text(json.dumps(results, indent=2))
        print("| run | connections | requests/s | p50 ms | p99 ms | non-2xx | x baseline |")
        print("|---|---|---|---|---|---|---|")
        for label in ("idle", "baseline"):
            for r in results[label]:
                ratio = r.get("throughput_vs_baseline", "")
                print(
                    f"| {label} | {r['connections']} | {r['requests_per_s']:.0f} | {r['p50_ms']} | {r['p99_ms']} "
                    f"| {r['non_2xx'] + r['socket_errors']} | {ratio} |"
                )
        r = results["during_retrain"]
        print(
            f"| during retrain | 16 | {r['requests_per_s']:.0f} | {r['p50_ms']} | {r['p99_ms']} "
            f"| {r['non_2xx'] + r['socket_errors']} | |"
        )
        print(
            f"\nimport function_app: {results['import_function_app_ms']:.0f} ms; first forecast from a fresh "
            f"process: {results['fresh_process_first_forecast_s']:.2f} s; champion during the retrain run: "
            f"{during['champion_changed_during_run']}"
        )
        return 0
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        azurite.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
