"""scripts/smoke_test.py: against the local runner (trained champion, no champion) and its retry rules."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from localrun.azurite import free_port
from scripts import smoke_test
from tests.infra.conftest import REPO_ROOT

SMOKE_TEST = REPO_ROOT / "scripts" / "smoke_test.py"


# --- the script's own rules, against a scripted HTTP server -------------------------------------


class ScriptedApp(BaseHTTPRequestHandler):
    """Answers like a slot that is still starting for `warmup` health calls, then like the app."""

    warmup = 0
    model_version = "v1"
    calls: list[tuple[str, str | None]]

    def log_message(self, *args) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.calls.append((url.path, self.headers.get("x-functions-key")))
        if url.path == "/api/health" and sum(p == "/api/health" for p, _ in self.calls) <= self.warmup:
            self._send(503, b"<html>Service Unavailable</html>", "text/html")
        elif url.path == "/api/health":
            doc = {"status": "ok", "storage": "ok", "counts": None}
            self._send(200, json.dumps(doc).encode(), "application/json")
        elif url.path == "/api/forecast":
            start = date(2024, 3, 1)
            points = [
                {"date": (start + timedelta(days=i)).isoformat(), "forecast": 10.0, "lower": 8.0, "upper": 12.0}
                for i in range(int(query["horizon"]))
            ]
            doc = {
                "series": query["series"],
                "model_version": self.model_version,
                "trained_through": "2024-02-29",
                "generated_at": "2024-03-01T00:00:00Z",
                "level": float(query["level"]),
                "points": points,
            }
            self._send(200, json.dumps(doc).encode(), "application/json")
        elif url.path == "/api/models" and query["series"] != "total":
            doc = {"error": "series not found", "detail": f"unknown series {query['series']}"}
            self._send(404, json.dumps(doc).encode(), "application/json")
        elif url.path == "/api/models":
            doc = {"series": query["series"], "champion": "v1", "versions": [{"version": "v1"}, {"version": "v0"}]}
            self._send(200, json.dumps(doc).encode(), "application/json")
        else:
            self._send(404, b'{"error": "not found", "detail": ""}', "application/json")


@contextlib.contextmanager
def scripted_app(**attributes) -> Iterator[tuple[str, list]]:
    calls: list = []
    handler = type("Handler", (ScriptedApp,), {"calls": calls, **attributes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


def run_in_process(base_url: str, capsys, *extra: str) -> tuple[int, str]:
    code = smoke_test.main(["--base-url", base_url, "--interval", "0.05", "--timeout", "5", *extra])
    return code, capsys.readouterr().out


def test_waits_while_the_slot_warms_up_and_sends_the_key(monkeypatch, capsys):
    monkeypatch.setenv(smoke_test.KEY_ENV, "secret-key")
    with scripted_app(warmup=3) as (url, calls):
        code, out = run_in_process(url, capsys)
    assert code == 0, out
    assert [p for p, _ in calls].count("/api/health") == 4
    assert {key for _, key in calls} == {"secret-key"}
    assert "smoke test passed" in out and "secret-key" not in out


def test_a_forecast_from_another_model_fails(monkeypatch, capsys):
    monkeypatch.delenv(smoke_test.KEY_ENV, raising=False)
    with scripted_app(model_version="v0") as (url, _):
        code, out = run_in_process(url, capsys)
    assert code == 1
    assert "FAIL GET /api/forecast: expected series 'total' from champion 'v1'" in out


def test_an_app_that_never_gets_healthy_fails_with_its_last_answer(capsys):
    with scripted_app(warmup=10_000) as (url, _):
        code = smoke_test.main(["--base-url", url, "--interval", "0.05", "--timeout", "0.5"])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "GET /api/health (status ok: the app is up and reaches storage with its identity): "
        "no valid answer within 0.5s; last: HTTP 503: <html>Service Unavailable</html>"
    ) in out


def test_a_series_without_champion_fails_with_advice(capsys):
    with scripted_app() as (url, _):
        code, out = run_in_process(url, capsys, "--series", "north")
    assert code == 1
    assert "FAIL no champion for series 'north' (GET /api/models: 404)" in out
    assert "--allow-missing-champion" in out


# --- against the local runner serving the real function app --------------------------------------


def _daily_sales_csv(days: int = 120) -> bytes:
    start = date(2024, 1, 1)
    rows = ["date,value"]
    rows += [f"{start + timedelta(days=d)},{100 + 10 * (d % 7) + 0.1 * d:.2f}" for d in range(days)]
    return ("\n".join(rows) + "\n").encode()


def _train_champion(settings) -> str:
    """Ingest a sales file and run the retrain it requests, with the app's own code."""
    from shared.ingest import process_upload
    from shared.retrain import handle_request

    result = process_upload("sales.csv", _daily_sales_csv(), settings=settings)
    assert result.status == "accepted", result.problems
    outcomes = [handle_request(body, settings=settings) for body in result.retrain_requests]
    assert [o.status for o in outcomes] == ["trained"]
    return outcomes[0].version


@contextlib.contextmanager
def local_runner(settings, connection_string: str, tmp_path: Path) -> Iterator[str]:
    """`python -m localrun serve` on a free port, configured like the staging slot (triggers disabled)."""
    values = {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": connection_string,
        "INCOMING_CONTAINER": settings.incoming_container,
        "ARCHIVE_CONTAINER": settings.archive_container,
        "QUARANTINE_CONTAINER": settings.quarantine_container,
        "CURATED_CONTAINER": settings.curated_container,
        "MODELS_CONTAINER": settings.models_container,
        "MONITORING_CONTAINER": settings.monitoring_container,
        "RETRAIN_QUEUE": settings.retrain_queue,
        "REGISTRY_OUTBOX_QUEUE": settings.registry_outbox_queue,
        "MONITOR_QUEUE": settings.monitor_queue,
        "DRIFT_SCHEDULE": "0 0 6 * * *",
        **{
            f"AzureWebJobs.{name}.Disabled": "true"
            for name in ("ingest", "retrain", "monitor", "monitor_check", "registry-sync", "fleet_summary")
        },
    }
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    env = {k: v for k, v in os.environ.items() if k not in values and not k.startswith("AzureWebJobs")}
    port = free_port()
    command = [sys.executable, "-m", "localrun", "serve", "--settings", str(settings_file), "--port", str(port)]
    log = (tmp_path / "runner.log").open("w")
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run_script(base_url: str, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != smoke_test.KEY_ENV}
    command = [sys.executable, str(SMOKE_TEST), "--base-url", base_url, "--timeout", "60", "--interval", "0.5"]
    return subprocess.run([*command, *extra], env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_passes_against_the_local_runner_with_a_trained_champion(settings, azurite, tmp_path):
    version = _train_champion(settings)
    with local_runner(settings, azurite.connection_string, tmp_path) as url:
        completed = run_script(url, "--horizon", "14")
    runner_log = (tmp_path / "runner.log").read_text()
    assert completed.returncode == 0, completed.stdout + completed.stderr + runner_log
    assert f"ok   forecast: 14 points of 'total' from {version}" in completed.stdout
    assert f"champion {version}" in completed.stdout.splitlines()[-2]
    assert completed.stdout.rstrip().endswith("smoke test passed")


@pytest.mark.slow
def test_fails_clearly_against_the_local_runner_without_champion(settings, azurite, tmp_path):
    with local_runner(settings, azurite.connection_string, tmp_path) as url:
        failed = run_script(url)
        first_deployment = run_script(url, "--allow-missing-champion")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL no champion for series 'total' (GET /api/models: 404)" in failed.stdout
    assert "upload sales data and let retrain promote a model first" in failed.stdout
    assert first_deployment.returncode == 0, first_deployment.stdout + first_deployment.stderr
    assert "no champion for 'total' yet, the API answers 404 'series not found'" in first_deployment.stdout
