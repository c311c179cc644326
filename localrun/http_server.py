"""An asyncio HTTP/1.1 server with keep-alive on the runner's event loop, feeding the HTTP frontend."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

from localrun.config import ConfigurationError
from localrun.http_frontend import HttpFrontend
from localrun.invoke import Invoker

log = logging.getLogger("localrun.http")

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 100 * 1024 * 1024  # the Functions host's request size limit
KEEP_ALIVE_SECONDS = 120
WRITE_BUFFER_HIGH = 256 * 1024
LISTEN_BACKLOG = 1024
SERVER_NAME = "ForecastOps-localrun"
REASONS = {s.value: s.phrase for s in HTTPStatus}


class BadRequest(ValueError):
    """A request the server answers itself with `status` and closes the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RequestHead:
    """Request line and headers of one request."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    keep_alive: bool
    content_length: int
    chunked: bool
    expect_continue: bool


def parse_head(raw: bytes) -> RequestHead:
    """Parse the request line and headers (everything up to the blank line)."""
    lines = raw.decode("latin-1").lstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(400, f"bad request line {lines[0]!r}")
    method, target, version = parts
    headers, connection, encoding, length, expect = [], "", "", "", ""
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, f"bad header line {line!r}")
        value = value.strip()
        headers.append((name, value))
        lower = name.lower()
        if lower == "connection":
            connection = value.lower()
        elif lower == "transfer-encoding":
            encoding = value.lower()
        elif lower == "content-length":
            length = value
        elif lower == "expect":
            expect = value.lower()
    if length and not length.isdigit():
        raise BadRequest(400, f"bad Content-Length {length!r}")
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    chunked = "chunked" in encoding
    return RequestHead(method, target, headers, keep_alive, int(length or 0), chunked, expect == "100-continue")


async def read_body(reader: asyncio.StreamReader, head: RequestHead) -> bytes:
    """The request body, from Content-Length or chunked transfer encoding."""
    if head.chunked:
        chunks, total = [], 0
        while True:
            size_line = (await reader.readuntil(b"\r\n")).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise BadRequest(400, f"bad chunk size {size_line!r}") from exc
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise BadRequest(413, "request body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if head.content_length > MAX_BODY_BYTES:
        raise BadRequest(413, "request body too large")
    return await reader.readexactly(head.content_length) if head.content_length else b""


class HttpServer:
    """Serves the frontend on host:port (port 0 picks a free one) on the invoker's event loop."""

    def __init__(self, frontend: HttpFrontend, host: str, port: int, invoker: Invoker) -> None:
        self._frontend = frontend
        self._address = (host, port)
        self._invoker = invoker
        self._server: asyncio.base_events.Server | None = None
        self._connections: dict[asyncio.Task, bool] = {}  # connection task -> busy with a request
        self._closing = False
        self._date = (0, "")

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the HTTP server is not running")
        return self._server.sockets[0].getsockname()[1]

    def start(self) -> None:
        if self._invoker.loop is None:
            raise RuntimeError("start the invoker before the HTTP server")
        serve = asyncio.start_server(
            self._connection, *self._address, backlog=LISTEN_BACKLOG, limit=MAX_HEADER_BYTES, reuse_address=True
        )
        try:
            self._server = asyncio.run_coroutine_threadsafe(serve, self._invoker.loop).result()
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {self._address[0]}:{self._address[1]}: {exc}") from exc

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let requests in progress finish (up to timeout), close every connection."""
        if self._server is None or self._invoker.loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(timeout), self._invoker.loop).result()
        self._server = None

    async def _close(self, timeout: float) -> None:
        self._closing = True
        assert self._server is not None
        self._server.close()
        for task, busy in list(self._connections.items()):
            if not busy:
                task.cancel()
        if self._connections:
            _, pending = await asyncio.wait(list(self._connections), timeout=timeout)
            for task in pending:
                log.warning("closing an HTTP connection whose request is still running")
                task.cancel()

    def _http_date(self) -> str:
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, formatdate(now, usegmt=True))
        return self._date[1]

    def _render(self, status: int, headers: list[tuple[str, str]], body: bytes, keep: bool, head: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, '')}",
            f"Date: {self._http_date()}",
            f"Server: {SERVER_NAME}",
            *(f"{k}: {v}" for k, v in headers),
            f"Content-Length: {len(body)}",
        ]
        if not keep:
            lines.append("Connection: close")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        return raw if head else raw + body

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = False
        default_host = "{}:{}".format(*writer.get_extra_info("sockname")[:2])
        try:
            while not self._closing:
                if not await self._serve_one(reader, writer, task, default_host):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        except asyncio.LimitOverrunError:
            writer.write(self._render(431, [], b"", keep=False, head=False))
        except Exception:
            log.exception("HTTP connection failed; closing it")
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, task: asyncio.Task, default_host: str
    ) -> bool:
        """Serve one request; False when the connection must close."""
        idle = asyncio.get_running_loop().call_later(KEEP_ALIVE_SECONDS, writer.transport.close)
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        finally:
            idle.cancel()
        self._connections[task] = True
        started = time.perf_counter()
        try:
            head = parse_head(raw)
            if head.expect_continue and (head.content_length or head.chunked):
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await read_body(reader, head)
        except BadRequest as exc:
            writer.write(self._render(exc.status, [], str(exc).encode(), keep=False, head=False))
            return False
        status, headers, payload = await self._frontend.respond(
            head.method, head.target, head.headers, body, default_host
        )
        keep = head.keep_alive and not self._closing
        writer.write(self._render(status, headers, payload, keep, head.method == "HEAD"))
        if writer.transport.get_write_buffer_size() > WRITE_BUFFER_HIGH:
            await writer.drain()
        self._connections[task] = False
        if log.isEnabledFor(logging.INFO):  # one line per request, as the host logs them: no extra fields, it is hot
            log.info("%s %s %d %.1fms", head.method, head.target, status, (time.perf_counter() - started) * 1000)
        return keep
