"""Start, probe and stop the Azurite storage emulator installed from package.json."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite"
ACCOUNT = "devstoreaccount1"
# The well-known development account key, published in the Azurite documentation.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEFAULT_PORTS = (10000, 10001, 10002)


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Azurite:
    """One Azurite process; in memory unless `location` is given."""

    blob_port: int = DEFAULT_PORTS[0]
    queue_port: int = DEFAULT_PORTS[1]
    table_port: int = DEFAULT_PORTS[2]
    location: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @classmethod
    def on_free_ports(cls) -> Azurite:
        return cls(free_port(), free_port(), free_port())

    @property
    def connection_string(self) -> str:
        if (self.blob_port, self.queue_port, self.table_port) == DEFAULT_PORTS:
            return "UseDevelopmentStorage=true"
        base = f"http://127.0.0.1:{{}}/{ACCOUNT}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base.format(self.blob_port)};"
            f"QueueEndpoint={base.format(self.queue_port)};"
            f"TableEndpoint={base.format(self.table_port)};"
        )

    def command(self) -> list[str]:
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"{AZURITE_BIN} not found: run `npm ci` (or `make install`) first")
        cmd = [
            str(AZURITE_BIN),
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--blobHost",
            "127.0.0.1",
            "--queueHost",
            "127.0.0.1",
            "--tableHost",
            "127.0.0.1",
            "--blobPort",
            str(self.blob_port),
            "--queuePort",
            str(self.queue_port),
            "--tablePort",
            str(self.table_port),
        ]
        if self.location is None:
            cmd.append("--inMemoryPersistence")
        else:
            cmd += ["--location", str(self.location)]
        return cmd

    def already_running(self) -> bool:
        return all(_listening(p) for p in (self.blob_port, self.queue_port))

    def start(self, timeout: float = 30.0) -> Azurite:
        if self.location is not None:
            self.location.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO_ROOT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"Azurite exited with code {self.process.returncode}: {err.strip()}")
            if self.already_running():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Azurite did not listen on ports {self.blob_port}/{self.queue_port} in {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
