"""The dashboard in a real headless Chromium: the chart, its forecast band and the versions table are drawn."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from localrun import Runner
from localrun.sample import monthly_files
from shared.ingest import process_upload
from shared.monitoring.service import run_checks
from shared.retrain import handle_request

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed: run `make install` (it installs it with apt-get)")
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=True)


def test_dashboard_draws_history_forecast_band_and_versions(app_env, tmp_path):
    months = monthly_files()
    versions = []
    for batch in (months[-4:-1], months[-1:]):  # Feb-Apr 2014, then May 2014: two real retrains
        for name, data in batch:
            request = process_upload(name, data, settings=app_env).retrain_requests[0]
        versions.append(handle_request(request, settings=app_env).version)
    first, second = versions
    (report,) = run_checks(app_env)
    with Runner(port=0, poll_interval=0.2) as runner:
        url = f"{runner.base_url}/api/dashboard?series=total"
        dom = chromium(tmp_path, "--dump-dom", url).stdout
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "dashboard.png"
        chromium(tmp_path, "--window-size=1280,1100", f"--screenshot={shot}", url)
    assert re.search(r'<svg id="chart"[^>]*data-ready="true"', dom), "the chart script did not finish"
    band = re.search(r'<path id="band95" d="([^"]+)"', dom)
    assert band and band.group(1).startswith("M") and band.group(1).endswith("Z")
    assert band.group(1).count("L") == 2 * 56 - 1  # upper edge, then lower edge back: the 56-day band
    assert re.search(r'<path id="band80" d="M', dom) and re.search(r'<path id="forecast" d="M', dom)
    history = re.search(r'<path id="history" d="([^"]+)"', dom).group(1)
    assert history.count("L") == 120 - 1  # the last 120 days of the four uploaded months
    table = re.search(r'<table id="versions">(.*?)</table>', dom, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    assert len(rows) == 3 and second in rows[1] and first in rows[2] and "★" in rows[1]
    assert '<strong class="status-' in dom and f'id="drift-status">{report["status"]}</strong>' in dom
    drift_rows = re.findall(r"<tr>(.*?)</tr>", re.search(r'<table id="drift-tests">(.*?)</table>', dom, re.S).group(1))
    assert len(drift_rows) == 1 + len(report["drift"]["checks"]) + len(report["decay"]["checks"])
    assert shot.stat().st_size > 20_000
