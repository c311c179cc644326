"""Storage outage while serving: a dedicated Azurite is stopped (or frozen) mid-test.

A warm champion is served from the cache marked stale; a series never served fails with 503; when
storage returns, the champion is revalidated and no longer stale. The time these answers take is
measured by bench/storage_outage.py, not asserted here.
"""

import json
import os
import signal
import time

import pytest

from localrun.azurite import Azurite
from shared.api import Service, respond
from shared.errors import StorageUnavailable
from shared.serving import forecast_headers
from shared.storage import ensure_resources
from tests.conftest import make_settings
from tests.factories import publish

CACHE_SECONDS = 1


@pytest.fixture
def emulator(tmp_path):
    """An Azurite of this test alone, on disk so that a restart finds the data again."""
    azurite = Azurite.on_free_ports()
    azurite.location = tmp_path / "azurite"
    azurite.start()
    try:
        yield azurite
    finally:
        if azurite.process is not None and azurite.process.poll() is None:
            os.kill(azurite.process.pid, signal.SIGCONT)
        azurite.stop()


@pytest.fixture
def outage_settings(emulator):
    settings = make_settings(emulator.connection_string, champion_cache_seconds=CACHE_SECONDS)
    ensure_resources(settings)
    return settings


def forecast(service) -> tuple[int, dict]:
    response = respond("forecast", {"horizon": "7"}, service)
    return response.status, json.loads(response.body)


def outage(emulator: Azurite, kind: str) -> None:
    if kind == "stopped":
        emulator.stop()
    else:  # frozen: connections are accepted but never answered, like a network black hole
        os.kill(emulator.process.pid, signal.SIGSTOP)


def recover(emulator: Azurite, kind: str) -> None:
    if kind == "stopped":
        emulator.start()
    else:
        os.kill(emulator.process.pid, signal.SIGCONT)


@pytest.mark.parametrize("kind", ["stopped", "frozen"])
def test_an_outage_serves_the_cached_champion_marked_stale_or_503(emulator, outage_settings, kind):
    version = publish(outage_settings)
    warm = Service(outage_settings)
    status, before = forecast(warm)
    assert status == 200 and before["model_version"] == version
    assert forecast_headers(warm.cache.get("total")) == {}

    outage(emulator, kind)
    time.sleep(CACHE_SECONDS + 0.2)  # the cached entry is due for revalidation
    status, during = forecast(warm)
    assert status == 200 and during["model_version"] == version and during["points"] == before["points"]
    champion = warm.cache.get("total")
    assert champion.stale and forecast_headers(champion)["X-Forecast-Stale"].startswith("storage unreachable")

    cold = Service(outage_settings)
    status, body = forecast(cold)
    assert status == 503 and "storage is unreachable" in body["detail"]
    with pytest.raises(StorageUnavailable):  # within the breaker window: refused without another wait
        cold.cache.get("total")

    recover(emulator, kind)
    time.sleep(CACHE_SECONDS + 0.2)
    status, after = forecast(warm)
    assert status == 200 and after["model_version"] == version
    assert not warm.cache.get("total").stale
    assert forecast(cold)[0] == 200
