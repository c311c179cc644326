"""Azurite's CPU per blob write as its container fills: in memory against on disk.

Usage (from the repository root):

    nice .venv/bin/python -m bench.azurite_cost [--batches 3] [--per-batch 2500]

Starts Azurite twice on free ports (`--inMemoryPersistence`, then `--location` in a temporary folder),
puts `--batches` rounds of `--per-batch` small blobs (8 threads) into one container, and prints for each
round the wall seconds, Azurite's CPU seconds and this process's CPU seconds. A cost per write that grows
round after round is the emulator's: Blob Storage does not scan the container to write a blob.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azure.storage.blob import BlobServiceClient

from bench.common import machine
from localrun.azurite import Azurite

BODY = b"date,value\n" + b"2024-01-01,1.0\n" * 120  # about the size of a curated series of 120 days


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rounds(location: Path | None, batches: int, per_batch: int) -> list[tuple[float, float, float]]:
    azurite = Azurite.on_free_ports()
    azurite.location = location
    azurite.start()
    try:
        client = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client("cost")
        client.create_container()
        out = []
        for batch in range(batches):
            wall, node, own = time.monotonic(), process_cpu(azurite.process.pid), time.process_time()
            with ThreadPoolExecutor(8) as pool:
                names = [f"series/b{batch}-{i}.csv" for i in range(per_batch)]
                list(pool.map(lambda name: client.upload_blob(name, BODY), names))
            out.append((time.monotonic() - wall, process_cpu(azurite.process.pid) - node, time.process_time() - own))
        return out
    finally:
        azurite.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--per-batch", type=int, default=2500)
    args = parser.parse_args()
    print(f"before: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        for mode, location in (("in memory", None), ("on disk", Path(folder) / "azurite")):
            for number, (wall, node, own) in enumerate(rounds(location, args.batches, args.per_batch), 1):
                print(
                    f"{mode:9} round {number}: {args.per_batch} writes in {wall:5.1f} s wall, "
                    f"Azurite {node:5.1f} CPU s ({1000 * node / args.per_batch:.1f} ms a write), "
                    f"client {own:4.1f} CPU s"
                )
    print(f"after:  {machine()}")


if __name__ == "__main__":
    main()
