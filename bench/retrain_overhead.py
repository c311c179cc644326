"""What a retrain costs around its selection, in the app and in Azurite, per series of a new estate.

Usage (from the repository root):

    nice .venv/bin/python -m bench.retrain_overhead [--series 300] [--rounds 2]

The event-path corpus (`bench.event_path.corpus`) is ingested into a fresh Azurite, and every retrain
message is handled in this process (`shared.retrain.handle_message`, the queue function's own code). The
selection is computed once per series and then taken from a cache, so what is timed is everything else:
the storage requests, the card, the forecast document, the serialisation. Two paths are timed, each round
on its own fresh Azurite so both hold the same blobs:

* `current`: the retrain as it is (13 blob requests for a new series);
* `bare`: the same with the run claim, the series lock and the champion read left out (7 requests: the
  curated read, the three artifacts, the champion pointer and the two fleet writes). This is a what-if:
  it keeps per-series artifacts and drops every request a new series could do without.

Printed per round: this process's CPU and Azurite's CPU, in milliseconds per series.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import logging
import time
from collections.abc import Iterator

from bench.common import machine
from bench.event_path import corpus, tree_cpu
from localrun.azurite import Azurite

SKIPPED = ("series_lock", "claim_run", "finish_run", "intact_champion")


@contextlib.contextmanager
def bare_path() -> Iterator[None]:
    """The retrain without the run claim, the series lock and the champion read (a new series has none)."""
    import shared.retrain as retrain

    saved = {name: getattr(retrain, name) for name in SKIPPED}
    retrain.series_lock = lambda *args, **kwargs: contextlib.nullcontext()
    retrain.claim_run = lambda *args, **kwargs: None
    retrain.finish_run = lambda *args, **kwargs: None
    retrain.intact_champion = lambda *args, **kwargs: (None, None, None, [])
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(retrain, name, value)


def cached_selection() -> dict:
    """Replace the retrain's selection with one computed once per series; returns the cache."""
    import shared.retrain as retrain
    from shared.forecasting import select_model

    cache: dict = {}

    def select(y, champion_spec=None):
        key = (str(y.name), len(y), float(y.sum()))
        if key not in cache:
            cache[key] = select_model(y, champion_spec=champion_spec)
        return cache[key]

    retrain.select_model = select
    return cache


def one_run(frame, bare: bool) -> tuple[float, float, float]:
    """Ingest `frame` into a fresh Azurite and handle every retrain message: (app CPU, Azurite CPU, wall)."""
    from azure.storage.queue import QueueClient

    from shared.ingest.pipeline import ingest_blob
    from shared.retrain import handle_message
    from shared.settings import Settings
    from shared.storage import ensure_resources

    azurite = Azurite.on_free_ports().start()
    try:
        settings = Settings(storage_connection_string=azurite.connection_string, storage_account_name=None)
        ensure_resources(settings)
        data = frame.to_csv(index=False).encode()
        ingest_blob("estate.csv", len(data), lambda: data, settings=settings)
        queue = QueueClient.from_connection_string(azurite.connection_string, settings.retrain_queue)
        messages = []
        while batch := list(queue.receive_messages(max_messages=32, visibility_timeout=3600)):
            messages += [base64.b64decode(m.content) for m in batch]
        node = tree_cpu(azurite.process.pid)
        cpu, wall = time.process_time(), time.perf_counter()
        with bare_path() if bare else contextlib.nullcontext():
            for raw in messages:
                handle_message(raw, settings=settings)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return cpu, tree_cpu(azurite.process.pid) - node, wall
    finally:
        azurite.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    frame = corpus(args.series)
    n = frame["series_id"].nunique()
    print(f"{n} series; {machine()}")
    cache = cached_selection()
    app, node, wall = one_run(frame, bare=False)
    print(f"with the selection (fills the cache of {len(cache)}): app {app / n * 1e3:.1f} ms/series, "
          f"Azurite {node / n * 1e3:.1f} ms/series, {wall:.1f} s wall")  # fmt: skip
    for index in range(args.rounds):
        for label, bare in (("current", False), ("bare", True)):
            app, node, wall = one_run(frame, bare)
            print(
                f"round {index + 1} {label:8s} app {app / n * 1e3:5.1f} ms/series, Azurite {node / n * 1e3:5.1f} "
                f"ms/series, together {(app + node) / n * 1e3:5.1f}; {wall:.1f} s wall"
            )
    print(machine())


if __name__ == "__main__":
    main()
