"""Shared fixtures: one in-memory Azurite per test session, fresh containers per test."""

from __future__ import annotations

import uuid

import pytest

from localrun.azurite import Azurite
from shared.settings import Settings


def pytest_collection_modifyitems(items):
    """Mark what `make test-fast` leaves out: tests needing Azurite (the `azurite` fixture or their own
    emulator) and the delivery tests of tests/infra (the validation tools of .venv-tools)."""
    for item in items:
        module = getattr(item, "module", None)
        if "azurite" in getattr(item, "fixturenames", ()) or getattr(module, "Azurite", None) is not None:
            item.add_marker(pytest.mark.azurite)
        if "infra" in item.path.parent.parts[-1:]:
            item.add_marker(pytest.mark.tools)


@pytest.fixture(autouse=True)
def _outside_the_repo(tmp_path, monkeypatch):
    """Run each test in its own folder, so no developer's local.settings.json leaks into the CLI's settings."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def azurite():
    """A real Azurite on free loopback ports, in memory, for the whole session."""
    emulator = Azurite.on_free_ports().start()
    try:
        yield emulator
    finally:
        emulator.stop()


def make_settings(connection_string: str, **overrides) -> Settings:
    """Settings whose container and queue names are unique, so each test owns its state."""
    tag = uuid.uuid4().hex[:10]
    names = {
        "incoming_container": f"in-{tag}",
        "archive_container": f"arch-{tag}",
        "quarantine_container": f"quar-{tag}",
        "curated_container": f"cur-{tag}",
        "models_container": f"mod-{tag}",
        "monitoring_container": f"mon-{tag}",
        "retrain_queue": f"retrain-{tag}",
    }
    names.update(overrides)
    return Settings(storage_connection_string=connection_string, storage_account_name=None, **names)


@pytest.fixture
def settings(azurite):
    """Settings for this test alone, with its containers and queue created."""
    from shared.storage import ensure_resources

    value = make_settings(azurite.connection_string)
    ensure_resources(value)
    return value


@pytest.fixture
def app_env(settings, monkeypatch):
    """This test's settings exported as app settings, as the function app and the CLI read them."""
    from shared.api import default_service
    from shared.settings import get_settings

    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    default_service.cache_clear()
    yield settings
    get_settings.cache_clear()
    default_service.cache_clear()
