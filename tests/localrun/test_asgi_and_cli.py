"""An AsgiFunctionApp through the runner, and `python -m localrun serve` as a process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from localrun.azurite import free_port
from localrun.runner import REPO_ROOT
from tests.localrun.conftest import APPS


def test_asgi_app_serves_every_path_after_one_lifespan_startup(start_runner):
    runner = start_runner("asgi_app", env={})

    first = json.loads(urllib.request.urlopen(f"{runner.base_url}/api/anything/here?x=1", timeout=5).read())
    request = urllib.request.Request(f"{runner.base_url}/api/upload", data=b"payload", method="POST")
    second = json.loads(urllib.request.urlopen(request, timeout=5).read())

    assert first == {"path": "/api/anything/here", "method": "GET", "body": "", "started": 1}
    assert second == {"path": "/api/upload", "method": "POST", "body": "payload", "started": 1}


def _wait_listening(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"the runner did not listen on {port}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_until_interrupted(tmp_path, signum):
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"Values": {"AzureFunctionsWebHost__hostid": "cli-test"}}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AzureFunctionsWebHost__hostid"}
    command = [sys.executable, "-m", "localrun", "serve", "--app", "http_app", "--app-dir", str(APPS)]
    command += ["--port", str(port), "--settings", str(settings)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, process)
        status = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/host/status", timeout=5).read())
        assert status == {"id": "cli-test", "state": "Running"}
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ping", timeout=5).read() == b"pong"
    finally:
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert "ping: httpTrigger" in stdout.decode()
    assert "GET /api/ping 200" in stderr.decode()
