"""`make run`: Azurite, the runner and the AdventureWorks sample flowing through upload → retrain → forecast."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from localrun.azurite import Azurite
from localrun.runner import REPO_ROOT, Runner, wait_for_shutdown
from localrun.sample import monthly_files
from localrun.workers import MAX_WORKER_PROCESSES, WORKER_COUNT_SETTING
from shared.settings import load_local_settings

log = logging.getLogger("localrun.demo")


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        type=Path,
        default=REPO_ROOT / "local.settings.json",
        help="app settings; created from local.settings.sample.json when missing",
    )
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / ".azurite", help="Azurite's data folder")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the first forecast")
    parser.add_argument("--exit", action="store_true", help="stop once the sample has been processed")


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _wait_ingested(incoming, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while incoming.get_blob_client(name).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} was not ingested within {timeout:.0f}s")
        time.sleep(0.2)


def run_demo(args: argparse.Namespace) -> int:
    """Start everything, upload the sample month by month, report the time to the first forecast."""
    if not args.settings.exists():
        shutil.copyfile(REPO_ROOT / "local.settings.sample.json", args.settings)
        log.info("created %s from local.settings.sample.json", args.settings)
    load_local_settings(args.settings)
    # Retrains are CPU-bound: one worker process per core (the host's limit is 10), unless the settings say.
    os.environ.setdefault(WORKER_COUNT_SETTING, str(min(os.cpu_count() or 1, MAX_WORKER_PROCESSES)))

    from shared.settings import get_settings
    from shared.storage import ensure_resources

    azurite = Azurite(location=args.data_dir)
    if azurite.already_running():
        log.info("using the Azurite already listening on ports %d/%d", azurite.blob_port, azurite.queue_port)
    else:
        azurite.start()
        log.info("Azurite started (data in %s)", args.data_dir)
    try:
        settings = get_settings()
        ensure_resources(settings)
        with Runner(port=args.port, poll_interval=0.5) as runner:
            return _upload_and_serve(args, settings, runner)
    finally:
        azurite.stop()


def _upload_and_serve(args: argparse.Namespace, settings, runner: Runner) -> int:
    """Upload the sample month by month, report the time to the first forecast, then serve."""
    from shared.storage import container

    base = runner.base_url
    incoming = container(settings.incoming_container, settings)
    started = time.monotonic()
    months = monthly_files()
    for name, data in months:
        incoming.upload_blob(name, data, overwrite=True)
        log.info("uploaded %s/%s (%d bytes)", settings.incoming_container, name, len(data))
        _wait_ingested(incoming, name)
    log.info("all %d monthly files ingested after %.1fs", len(months), time.monotonic() - started)
    deadline = started + args.timeout
    status, body = _get(f"{base}/api/forecast?horizon=28")
    while status != 200:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no forecast within {args.timeout:.0f}s: {status} {body}")
        time.sleep(0.5)
        status, body = _get(f"{base}/api/forecast?horizon=28")
    log.info(
        "first forecast %.1fs after the first upload: %d points, model %s trained through %s",
        time.monotonic() - started,
        len(body["points"]),
        body["model_version"],
        body["trained_through"],
    )
    if not runner.wait_idle(timeout=args.timeout):
        raise TimeoutError(f"retraining not finished within {args.timeout:.0f}s")
    _, body = _get(f"{base}/api/forecast?horizon=28")
    log.info(
        "all retraining done %.1fs after the first upload; champion %s trained through %s",
        time.monotonic() - started,
        body["model_version"],
        body["trained_through"],
    )
    print(f"\nForecastOps is running on {base}")
    for path in ("dashboard", "forecast?series=total&horizon=28&level=95", "models?series=total", "health"):
        print(f"  {base}/api/{path}")
    if args.exit:
        return 0
    print("Ctrl-C to stop")
    wait_for_shutdown()
    print("stopping")
    return 0
