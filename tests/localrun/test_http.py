"""HTTP functions through the runner's real server: routing, methods, bodies, headers, keep-alive."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time

import pytest

from localrun.config import ConfigurationError
from localrun.runner import Runner
from tests.localrun.conftest import APPS


@pytest.fixture(scope="module")
def server():
    """One runner for the stateless HTTP test app, shared by this module's tests."""
    with Runner("http_app", APPS, port=0, poll_interval=0.1, env={}) as runner:
        yield runner


def _request(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_query_parameters_reach_the_function(server):
    status, headers, body = _request(server, "GET", "/api/hello?name=ann")
    assert (status, body) == (200, b"hello ann")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Length"] == "9"


def test_route_parameters_constraints_and_optional_segments(server):
    status, _, body = _request(server, "GET", "/api/items/42/extra?q=1&q=2")
    assert status == 200
    assert json.loads(body) == {"route": {"id": "42", "rest": "extra"}, "params": {"q": "1,2"}, "method": "GET"}
    assert json.loads(_request(server, "GET", "/api/items/7")[2])["route"] == {"id": "7"}
    assert _request(server, "GET", "/api/items/abc")[0] == 404


def test_literal_route_wins_over_parameter_and_catch_all_takes_the_rest(server):
    assert json.loads(_request(server, "GET", "/api/items/new")[2]) == {"literal": True}
    assert json.loads(_request(server, "GET", "/api/files/2024/01/sales%20jan.csv")[2]) == {
        "path": "2024/01/sales jan.csv"
    }


def test_unknown_paths_are_404(server):
    assert _request(server, "GET", "/api/nothing-here")[0] == 404
    assert _request(server, "GET", "/hello")[0] == 404  # outside the route prefix


def test_wrong_method_is_405_with_allow(server):
    status, headers, _ = _request(server, "DELETE", "/api/items/1")
    assert status == 405
    assert headers["Allow"] == "GET, POST"


def test_async_function_gets_request_and_context(server):
    status, _, body = _request(server, "GET", "/api/async/bob")
    assert status == 200
    assert json.loads(body) == {
        "name": "bob",
        "function": "async_hello",
        "url": f"http://127.0.0.1:{server.port}/api/async/bob",
    }


def test_body_and_headers_round_trip(server):
    payload = bytes(range(256)) * 40
    status, headers, body = _request(server, "POST", "/api/echo", payload, {"X-Test": "yes"})
    assert (status, body) == (201, payload)
    assert headers["X-Echo-Length"] == str(len(payload))
    assert headers["X-Seen-Header"] == "yes"
    assert headers["Content-Type"] == "application/octet-stream"


def test_chunked_request_body(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("PUT", "/api/echo", body=iter([b"abc", b"", b"defg"]), encode_chunked=True)
    response = conn.getresponse()
    assert (response.status, response.read()) == (201, b"abcdefg")
    conn.close()


def test_str_return_and_exception(server):
    assert _request(server, "GET", "/api/text")[::2] == (200, b"plain text")
    assert _request(server, "GET", "/api/boom")[::2] == (500, b"")


def test_keep_alive_serves_many_requests_on_one_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.connect()
    sock = conn.sock
    for i in range(20):
        path = "/api/boom" if i == 10 else f"/api/hello?name={i}"
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.getheader("Content-Length") == str(len(body))
        assert response.getheader("Connection") is None
    assert conn.sock is sock
    conn.close()


def test_connection_close_is_honoured(server):
    status, headers, _ = _request(server, "GET", "/api/ping", headers={"Connection": "close"})
    assert status == 200
    assert headers["Connection"] == "close"


def test_slow_sync_function_does_not_block_others(server, tmp_path):
    started, gate = tmp_path / "started", tmp_path / "release"
    held = []
    path = f"/api/hold?started={started}&until={gate}"
    slow = threading.Thread(target=lambda: held.append(_request(server, "GET", path)))
    slow.start()
    for _ in range(1000):  # until the function runs (at most 10 s)
        if started.exists():
            break
        time.sleep(0.01)
    assert started.exists()
    assert _request(server, "GET", "/api/ping")[::2] == (200, b"pong")  # answered while `hold` still blocks
    assert held == [] and slow.is_alive()
    gate.touch()
    slow.join(timeout=15)
    assert [(status, body) for status, _, body in held] == [(200, b"released")]


def test_concurrent_keep_alive_clients(server):
    failures = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for i in range(25):
            conn.request("GET", f"/api/hello?name={n}-{i}")
            response = conn.getresponse()
            if (response.status, response.read()) != (200, f"hello {n}-{i}".encode()):
                failures.append((n, i))
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_malformed_request_gets_400(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400 ")


def test_each_request_is_logged_with_status_and_duration(server, caplog):
    with caplog.at_level(logging.INFO, logger="localrun.http"):
        _request(server, "GET", "/api/hello?name=log")
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:  # the line follows the response
            time.sleep(0.01)
    [record] = [r for r in caplog.records if r.name == "localrun.http"]
    method, target, status, duration = record.getMessage().split(" ")
    assert (method, target, status) == ("GET", "/api/hello?name=log", "200")
    assert duration.endswith("ms") and float(duration[:-2]) >= 0


def test_host_status_endpoint(server):
    status, _, body = _request(server, "GET", "/admin/host/status")
    assert status == 200
    assert json.loads(body)["state"] == "Running"


def test_busy_port_is_a_clear_error(server):
    with pytest.raises(ConfigurationError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        Runner("http_app", APPS, port=server.port, env={}).start()


def test_disabled_function_is_not_served(start_runner):
    runner = start_runner("http_app", env={"AzureWebJobs.ping.Disabled": "true"})
    assert _request(runner, "GET", "/api/ping")[0] == 404
    assert _request(runner, "GET", "/api/text")[0] == 200
