"""Test helpers: real fitted models published to the registry without running selection, and waiting."""

import time

import numpy as np
import pandas as pd

from shared import registry
from shared.forecasting.naive import SeasonalNaive
from shared.storage import container
from shared.training import forecast_document


def publish(settings, series="total", level=100.0, promote=True):
    """A real fitted seasonal-naive version with its stored forecast path."""
    index = pd.date_range("2024-01-01", periods=56, freq="D")
    y = pd.Series(level + 10 * (np.arange(56) % 7) + np.sin(np.arange(56)), index=index)
    model = SeasonalNaive({"freq": "D"}).fit(y)
    version = registry.new_version_id()
    models = container(settings.models_container, settings)
    card = {
        "version": version,
        "series": series,
        "spec": model.spec,
        "created_at": "2024-02-26T00:00:00+00:00",
        "dataset": {"end": "2024-02-25"},
        "metrics": {"mase": 1.0},
        "decision": {"outcome": "first-model"},
    }
    doc = forecast_document(model, series=series, version=version, freq="D", trained_through="2024-02-25")
    registry.write_version(models, series, version, model=model, card=card, forecast=doc)
    if promote:
        registry.promote(models, series, version)
    return version


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.2):
    """The first truthy value of `predicate()`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def count_blob_requests(monkeypatch, settings) -> list[tuple[str, str]]:
    """Count the blob requests the app sends from now on, as (method, path and query) pairs.

    Every `shared.storage.container` client comes from one real BlobServiceClient whose request hook
    appends to the returned list; the requests still go to Azurite.
    """
    from urllib.parse import urlsplit

    from azure.storage.blob import BlobServiceClient

    import shared.storage

    sent: list[tuple[str, str]] = []

    def hook(request) -> None:
        url = urlsplit(request.http_request.url)
        sent.append((request.http_request.method, f"{url.path.split('/', 2)[-1]}?{url.query}"))

    service = BlobServiceClient.from_connection_string(settings.storage_connection_string, raw_request_hook=hook)
    monkeypatch.setattr(shared.storage, "blob_service", lambda settings=None: service)
    return sent
