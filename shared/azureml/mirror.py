"""The Azure ML model registry as the registry of record: each champion change registered as a custom model.

One model name per series (shared.azureml.naming), one registry version per version of ours. The version's
folder (model.joblib, card.json, forecast.json) is downloaded from the models container to a temporary
folder and registered from there, so the workspace keeps its own copy of the artifact. Tags carry what a
search needs (series, dataset version, family, backtest MASE and 95% coverage, decision, champion);
properties carry the lineage (card URL, upload, correlation id).

The mirror's state per series, `{series}/mirror.json` in the models container, holds the champion it
last registered and when that change happened: a redelivered change is a no-op and an older change that
arrives late is registered without taking the champion mark from a newer one.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob import ContainerClient

from shared.azureml.naming import model_name, model_version
from shared.azureml.outbox import ChampionChange
from shared.errors import ConcurrencyConflict, VersionNotFound
from shared.registry import CARD_FILE, FORECAST_FILE, MODEL_FILE, read_card
from shared.settings import Settings
from shared.storage import read_json, write_json

log = logging.getLogger(__name__)

MIRROR_STATE = "mirror.json"
VERSION_FILES = (MODEL_FILE, CARD_FILE, FORECAST_FILE)


class ModelRegistry(Protocol):
    """What the mirror needs of a model registry (AzureMLModels in Azure)."""

    def get(self, name: str, version: str) -> Any | None: ...

    def create_or_update(self, model: Any) -> Any: ...


class AzureMLModels:
    """The workspace's model registry through `MLClient.models`."""

    def __init__(self, ml_client) -> None:
        self._models = ml_client.models

    def get(self, name: str, version: str):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self._models.get(name=name, version=version)
        except ResourceNotFoundError:
            return None

    def create_or_update(self, model):
        return self._models.create_or_update(model)


@dataclass(frozen=True)
class SyncOutcome:
    status: str  # registered | champion-marked | already-synced | stale
    series: str
    version: str
    model_name: str
    model_version: str


def state_name(series: str) -> str:
    return f"{series}/{MIRROR_STATE}"


def read_state(models: ContainerClient, series: str) -> dict | None:
    """The mirror's state of a series: {version, changed_at, model_name, model_version, synced_at}, or None."""
    return read_json(models, state_name(series))[0]


def _tag(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def model_entity(card: dict, change: ChampionChange, folder: Path, *, card_url: str, champion: bool):
    """The `custom_model` entity of one version (its folder already downloaded to `folder`)."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Model

    metrics = card.get("metrics") or {}
    decision = card.get("decision") or {}
    dataset = card.get("dataset") or {}
    family = (card.get("spec") or {}).get("name", "")
    tags = {
        "series": change.series,
        "dataset_version": _tag(dataset.get("version")),
        "model_family": _tag(family),
        "backtest_mase": _tag(metrics.get("mase")),
        "coverage_95": _tag(metrics.get("coverage_95")),
        "decision": _tag(decision.get("outcome")),
        "champion": "true" if champion else "false",
        "champion_since": change.changed_at if champion else "",
    }
    properties = {
        "forecastops.card": card_url,
        "forecastops.upload": _tag(card.get("upload")),
        "forecastops.correlation_id": _tag(card.get("correlation_id")),
        "forecastops.dataset_version": _tag(dataset.get("version")),
        "forecastops.trained_through": _tag(dataset.get("end")),
        "forecastops.created_at": _tag(card.get("created_at")),
        "forecastops.code_version": _tag(card.get("code_version")),
    }
    return Model(
        name=model_name(change.series),
        version=model_version(change.version),
        type=AssetTypes.CUSTOM_MODEL,
        path=str(folder),
        description=f"ForecastOps {family} model of series {change.series}, data through {dataset.get('end')}",
        tags=tags,
        properties=properties,
    )


def download_version(models: ContainerClient, series: str, version: str, folder: Path) -> Path:
    """The version's files (model.joblib, card.json, forecast.json) copied into `folder`."""
    from azure.core.exceptions import ResourceNotFoundError

    folder.mkdir(parents=True, exist_ok=True)
    for name in VERSION_FILES:
        try:
            data = models.download_blob(f"{series}/{version}/{name}").readall()
        except ResourceNotFoundError as exc:
            raise VersionNotFound(f"series {series} version {version} has no {name}") from exc
        (folder / name).write_bytes(data)
    return folder


def _mark(registry: ModelRegistry, model, champion: bool, since: str) -> None:
    model.tags = {**(model.tags or {}), "champion": "true" if champion else "false", "champion_since": since}
    registry.create_or_update(model)


def sync_change(change: ChampionChange, settings: Settings, registry: ModelRegistry) -> SyncOutcome:
    """Register the change's version (once) and move the champion mark if the change is the newest seen.

    Raises on any registry or storage failure, so the queue retries the message and finally poisons it.
    """
    from shared.storage import container

    models = container(settings.models_container, settings)
    name, version = model_name(change.series), model_version(change.version)
    state, etag = read_json(models, state_name(change.series))
    changed_at = datetime.fromisoformat(change.changed_at)
    newest = state is None or changed_at > datetime.fromisoformat(state["changed_at"])
    existing = registry.get(name, version)
    status = "already-synced"
    if existing is None:
        card = read_card(models, change.series, change.version)
        with tempfile.TemporaryDirectory(prefix="forecastops-model-") as tmp:
            folder = download_version(models, change.series, change.version, Path(tmp) / change.version)
            card_url = f"{models.url}/{change.series}/{change.version}/{CARD_FILE}"
            registry.create_or_update(model_entity(card, change, folder, card_url=card_url, champion=newest))
        status = "registered"
        log.info("registered %s version %s in the Azure ML registry", name, version)
    elif newest and (existing.tags or {}).get("champion") != "true":
        _mark(registry, existing, True, change.changed_at)
        status = "champion-marked"
    if not newest:
        if status == "already-synced" and changed_at != datetime.fromisoformat(state["changed_at"]):
            status = "stale"
        log.info("champion change %s@%s is not newer than the mirrored %s", change.series, version, state["version"])
        return SyncOutcome(status, change.series, change.version, name, version)
    if state is not None and state["version"] != change.version:
        previous = registry.get(name, model_version(state["version"]))
        if previous is not None and (previous.tags or {}).get("champion") == "true":
            _mark(registry, previous, False, "")
    new_state = {
        "series": change.series,
        "version": change.version,
        "changed_at": change.changed_at,
        "reason": change.reason,
        "model_name": name,
        "model_version": version,
        "synced_at": datetime.now(UTC).isoformat(),
    }
    try:
        write_json(models, state_name(change.series), new_state, etag=etag, create_only=etag is None)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise ConcurrencyConflict(f"mirror state of {change.series} changed during the sync; retrying") from exc
    return SyncOutcome(status, change.series, change.version, name, version)


@lru_cache(maxsize=4)
def workspace_registry(workspace) -> AzureMLModels:
    """One client per workspace and process, so its credential's tokens are reused across messages."""
    from shared.azureml.workspace import ml_client

    return AzureMLModels(ml_client(workspace))


def handle_message(body: dict, settings: Settings | None = None, registry: ModelRegistry | None = None) -> SyncOutcome:
    """The `registry-sync` queue function's work: one outbox message, registered against the workspace."""
    from shared.settings import get_settings

    settings = settings or get_settings()
    change = ChampionChange.from_message(body)
    if registry is None:
        from shared.azureml.workspace import Workspace

        registry = workspace_registry(Workspace.from_settings(settings))
    return sync_change(change, settings, registry)
