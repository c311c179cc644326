"""Fixtures for the Azure ML integration: settings with the mirror on, an in-memory model registry, no network."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from tests.conftest import make_settings


def pytest_configure(config):
    """azure-ai-ml's schemas warn about marshmallow 4 when they are built: not ours to fix, kept out of the report."""
    config.addinivalue_line("filterwarnings", "ignore::marshmallow.warnings.Marshmallow4Warning")


PLACEHOLDER_WORKSPACE = {
    "azure_ml_subscription_id": "00000000-0000-0000-0000-000000000000",
    "azure_ml_resource_group": "rg-placeholder",
    "azure_ml_workspace_name": "mlw-placeholder",
}


@pytest.fixture
def settings(azurite):
    """Here the registry mirror is on (placeholder workspace), with an outbox queue of this test's own."""
    from shared.storage import ensure_resources

    value = make_settings(
        azurite.connection_string, registry_outbox_queue=f"outbox-{uuid.uuid4().hex[:10]}", **PLACEHOLDER_WORKSPACE
    )
    ensure_resources(value)
    return value


@pytest.fixture
def mirror_settings(app_env):
    """The mirror-on settings exported as app settings, as the registry reads them on a champion change."""
    return app_env


class InMemoryRegistry:
    """A model registry with the service's rules that matter here: a version's path never changes, tags may.

    Each entity goes through its YAML form (dump, then load_model), so what is stored is what the SDK
    accepts; `fail` makes every call raise, like a workspace that refuses the identity.
    """

    def __init__(self, tmp_path, fail: Exception | None = None) -> None:
        self.tmp_path, self.fail = tmp_path, fail
        self.models: dict[tuple[str, str], object] = {}
        self.writes: list[tuple[str, str, dict]] = []

    def get(self, name: str, version: str):
        if self.fail:
            raise self.fail
        return self.models.get((name, version))

    def create_or_update(self, model):
        from azure.ai.ml import load_model

        if self.fail:
            raise self.fail
        key = (model.name, model.version)
        if key in self.models and str(self.models[key].path) != str(model.path):
            raise ValueError(f"model {key} exists with another path")
        if key not in self.models:  # the service copies the artifact: keep the files, not the temp folder
            stored = self.tmp_path / f"{model.name}-{model.version}"
            stored.mkdir(parents=True)
            for file in sorted(Path(model.path).iterdir()):
                (stored / file.name).write_bytes(file.read_bytes())
            model.path = str(stored)
        document = self.tmp_path / f"{model.name}-{model.version}-{len(self.writes)}.yml"
        model.dump(document)
        loaded = load_model(document)
        self.models[key] = loaded
        self.writes.append((model.name, model.version, dict(loaded.tags)))
        return loaded

    def champions(self, name: str) -> list[str]:
        return sorted(v for (n, v), m in self.models.items() if n == name and m.tags.get("champion") == "true")


@pytest.fixture
def registry(tmp_path):
    return InMemoryRegistry(tmp_path / "registry")


@pytest.fixture
def no_network(monkeypatch):
    """Every outbound connection other than loopback (Azurite) raises and is recorded."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise ConnectionRefusedError(f"test blocks outbound connection to {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts
