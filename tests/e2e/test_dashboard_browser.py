"""The dashboard in a real headless Chromium: the chart, its forecast band and the versions table are drawn."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from localrun import Runner
from localrun.sample import monthly_files
from shared import registry
from shared.ingest import process_upload
from shared.monitoring.service import run_checks
from shared.retrain import handle_request
from shared.storage import container
from tests.factories import publish
from tests.monitoring.builders import NOISE_SD, daily_sales, publish_champion, shifted, store_curated

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = pytest.mark.browser
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


def series_page(tmp_path: Path, screenshot: str | None, height: int = 1700) -> tuple[str, Path | None]:
    """The DOM of the `total` series page after its scripts ran, and its screenshot under test-artifacts/."""
    with Runner(port=0, poll_interval=0.2) as runner:
        url = f"{runner.base_url}/api/dashboard?series=total"
        dom = chromium(tmp_path, "--dump-dom", url).stdout
        if screenshot is None:
            return dom, None
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / screenshot
        chromium(tmp_path, f"--window-size=1280,{height}", f"--screenshot={shot}", url)
    return dom, shot


def test_dashboard_draws_history_forecast_band_and_versions(app_env, tmp_path):
    months = monthly_files()
    versions = []
    for batch in (months[-4:-1], months[-1:]):  # Feb-Apr 2014, then May 2014: two real retrains
        for name, data in batch:
            request = process_upload(name, data, settings=app_env).retrain_requests[0]
        versions.append(handle_request(request, settings=app_env).version)
    first, second = versions
    (report,) = run_checks(app_env)
    dom, shot = series_page(tmp_path, "dashboard.png", 1700)
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
    assert_drift_panel(dom, report)


def text_of(fragment: str) -> str:
    """The text of an HTML fragment, its entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def assert_drift_panel(dom: str, report: dict) -> None:
    """The why in words with the alert state, and the window's actuals drawn against the served band."""
    why = re.search(r'<p id="drift-why-text"[^>]*>(.*?)</p>', dom, re.S)
    assert why and text_of(why.group(1)) == report["why"] and report["why"]
    alert = re.search(r'<span id="drift-alert" class="chip (\w+)">([^<]*)</span>', dom)
    raised = report["alert"]["raised"]
    assert alert and alert.groups() == (("warn", "alert raised") if raised else ("ok", "no alert"))
    if report["alert"]["top"]:
        assert f"strongest evidence: {report['alert']['top']} at" in dom
    chart = re.search(r'<svg id="drift-chart"[^>]*data-ready="true"[^>]*>(.*?)</svg>', dom, re.S)
    assert chart, "the window chart was not drawn"
    body = chart.group(1)
    recent = report["recent"]
    actuals = [r for r in recent if r["actual"] is not None]
    served = [r for r in recent if r["mean"] is not None]
    assert len(actuals) == report["window"]["points"] and served, "the test needs a window with served forecasts"
    assert len(served) == report["window"]["served"]
    assert len(re.findall(r'<circle class="window-actual', body)) == len(actuals)
    outside = sum(r["mean"] is not None and not r["lower_95"] <= r["actual"] <= r["upper_95"] for r in actuals)
    assert len(re.findall(r'<circle class="window-actual outside"', body)) == outside
    assert re.search(r'<path id="window-actuals" d="M', body)
    band95 = re.findall(r'<path class="window-band95" d="(M[^"]+Z)"', body)
    band80 = re.findall(r'<path class="window-band80" d="(M[^"]+Z)"', body)
    means = re.findall(r'<path class="window-mean" d="(M[^"]+)"', body)
    assert band95 and len(band80) == len(band95) and means
    assert sum(d.count("L") + 1 for d in band95) == 2 * len(served)  # each served day on both edges
    assert sum(d.count("L") + 1 for d in means) == len(served)
    title = re.search(r'<h3 class="window-title">([^<]*)</h3>', dom).group(1)
    assert f"({len(served)} of {len(recent)} days served)" in html.unescape(title)


def test_a_raised_alert_states_its_why_over_the_window_chart(app_env, tmp_path):
    """The last 28 days raised by 6 sd above what the champion served: the panel says so in words."""
    y = shifted(daily_sales(days=200), 28, 6 * NOISE_SD)
    publish_champion(app_env, "total", y.iloc[:172])
    store_curated(app_env, "total", y)
    (report,) = run_checks(app_env)
    assert report["alert"]["raised"] and "above" in report["why"]
    dom, shot = series_page(tmp_path, "dashboard-alert.png", 1700)
    assert_drift_panel(dom, report)
    assert 'class="why why-warn"' in dom
    assert len(re.findall(r'<circle class="window-actual outside"', dom)) >= 20  # most days far above the band
    assert shot.stat().st_size > 20_000


def test_a_fallback_champion_is_marked_on_its_page(app_env, tmp_path):
    """A new series with one day of data: its cold-start champion carries a visible badge with the reason."""
    name, data = monthly_files()[0]  # the sample's first month holds one day
    request = process_upload(name, data, settings=app_env).retrain_requests[0]
    version = handle_request(request, settings=app_env).version
    card = registry.read_card(container(app_env.models_container, app_env), "total", version)
    assert card["spec"]["fallback"] is True
    dom, shot = series_page(tmp_path, "dashboard-fallback.png", 900)
    badge = re.search(r'<div id="fallback-badge" class="fallback-badge" role="note">(.*?)</div>', dom, re.S)
    assert badge, "no visible fallback badge"  # `hidden` would sit between role and >
    text = text_of(badge.group(1))
    assert text.startswith("Fallback forecast") and card["fallback"]["reason"] in text
    assert f"full selection from {card['fallback']['needed']}" in text and "deliberately wide intervals" in text
    assert f'<div class="sub">{version} · cold-start fallback</div>' in dom and shot.stat().st_size > 10_000


def test_a_selected_champion_has_no_fallback_badge(app_env, tmp_path):
    publish(app_env)
    dom, _ = series_page(tmp_path, None)
    assert re.search(r'<svg id="chart"[^>]*data-ready="true"', dom)
    assert re.search(r'<div id="fallback-badge" class="fallback-badge" role="note" hidden="">\s*</div>', dom)
    assert not re.search(r'<div class="sub">[^<]*cold-start fallback</div>', dom)


def seed_fleet(settings, count: int) -> list[str]:
    """`count` series in the fleet index, as the retrain and the monitor record them (8 writers at once)."""
    from concurrent.futures import ThreadPoolExecutor

    from shared import fleet
    from shared.storage import container

    monitoring = container(settings.monitoring_container, settings)
    statuses = ["ok"] * 16 + ["drift", "decay", "ok", "not-checked"]
    names = [f"store-{i // 10:03d}-sku-{i % 10}" for i in range(count)]

    def one(item):
        i, name = item
        card = {
            "spec": {"name": ("ets", "arima", "theta", "combination")[i % 4]},
            "metrics": {"mase": round(0.4 + (i * 7919 % 1000) / 800, 3)},
            "dataset": {"end": "2026-11-30"},
        }
        pointer = {"series": name, "version": f"v20261130T0000{i:04d}Z", "promoted_at": "2026-11-30T02:00:00+00:00"}
        fleet.record_champion(monitoring, card, pointer)
        status = statuses[i % len(statuses)]
        if status != "not-checked":
            checked = f"2026-12-01T02:{i % 60:02d}:00+00:00"
            fleet.record_check(monitoring, {"series": name, "status": status, "checked_at": checked})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, enumerate(names)))
    return names


def test_fleet_overview_and_picker_with_1000_series(app_env, tmp_path):
    names = seed_fleet(app_env, 1000)
    with Runner(port=0, poll_interval=0.5) as runner:
        base = f"{runner.base_url}/api/dashboard"
        dom = chromium(tmp_path, "--dump-dom", f"{base}?code=k-secret-1").stdout
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "fleet-dashboard.png"
        chromium(tmp_path, "--window-size=1280,1300", f"--screenshot={shot}", base)
        filtered = chromium(tmp_path, "--dump-dom", f"{base}?prefix=store-01&status=drift").stdout
    cards = re.findall(r'<div class="value[^"]*">([^<]*)</div>', dom)
    assert cards[:4] == ["1,000", "850", "100", "50"]  # series, ok, drift or decay, not checked
    alerting = re.search(r'<table id="alerting">(.*?)</table>', dom, re.S).group(1)
    assert len(re.findall(r"<tr>", alerting)) == 1 + 20  # the 20 most recently checked of 100
    worst = re.search(r'<table id="worst">(.*?)</table>', dom, re.S).group(1)
    mases = [float(m) for m in re.findall(r'<td class="num">([0-9.]+)</td>', worst)]
    assert len(mases) == 20 and mases == sorted(mases, reverse=True)
    table = re.search(r'<table id="series-table" data-ready="true">(.*?)</table>', dom, re.S).group(1)
    listed = re.findall(r'data-series="([^"]+)"', table)
    assert listed == names[:50]
    assert 'id="picker"' in dom and 'list="picker-options"' in dom
    assert "k-secret-1" not in dom and not re.search(r'href="[^"]*code=', dom)
    rows = re.search(r'<table id="series-table" data-ready="true">(.*?)</table>', filtered, re.S).group(1)
    found = re.findall(r'data-series="([^"]+)"', rows)
    expected = [n for i, n in enumerate(names) if n.startswith("store-01") and i % 20 == 16]
    assert found == expected and expected
    assert shot.stat().st_size > 20_000
