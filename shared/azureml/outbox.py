"""The registry mirror's outbox: one queue message per champion change, and how far the mirror lags.

Storage only (no `azure.ai.ml`): the registry writes to the outbox on the serving and retraining paths,
the `registry-sync` function drains it (shared.azureml.mirror).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.storage.blob import ContainerClient

from shared.settings import Settings, get_settings
from shared.storage import queue

log = logging.getLogger(__name__)


class BadOutboxMessage(ValueError):
    """An outbox message that can never be synced (it ends in the poison queue)."""


@dataclass(frozen=True)
class ChampionChange:
    """One champion change: `version` became the champion of `series` at `changed_at` (ISO 8601, UTC)."""

    series: str
    version: str
    changed_at: str
    reason: str

    def to_message(self) -> dict:
        return {"series": self.series, "version": self.version, "changed_at": self.changed_at, "reason": self.reason}

    @classmethod
    def from_message(cls, body: dict) -> ChampionChange:
        if not isinstance(body, dict):
            raise BadOutboxMessage(f"outbox message must be a JSON object, got {body!r}")
        missing = [key for key in ("series", "version", "changed_at") if not body.get(key)]
        if missing:
            raise BadOutboxMessage(f"outbox message lacks {', '.join(missing)}: {body!r}")
        try:
            datetime.fromisoformat(str(body["changed_at"]))
        except ValueError as exc:
            raise BadOutboxMessage(f"outbox message changed_at is not ISO 8601: {body['changed_at']!r}") from exc
        return cls(str(body["series"]), str(body["version"]), str(body["changed_at"]), str(body.get("reason", "")))

    @classmethod
    def from_pointer(cls, pointer: dict) -> ChampionChange:
        return cls(pointer["series"], pointer["version"], pointer["promoted_at"], pointer.get("reason", ""))


def mirror_enabled(settings: Settings) -> bool:
    """The mirror is on once a workspace is configured (AZURE_ML_WORKSPACE_NAME)."""
    return bool(settings.azure_ml_workspace_name)


def send(change: ChampionChange, settings: Settings) -> None:
    """Put one champion change on the outbox queue (base64 JSON, as the queue trigger reads it)."""
    queue(settings.registry_outbox_queue, settings).send_message(json.dumps(change.to_message()).encode())


def champion_changed(client: ContainerClient, pointer: dict, settings: Settings | None = None) -> bool:
    """Called by the registry after every champion pointer write; True when the change went to the outbox.

    Nothing is sent while the mirror is off, or for a container other than the configured models
    container (a tool working on a copy). A failed send is logged and does not undo the champion change,
    which already happened: `registry_lag` then shows the series as unsynced until the next change.
    """
    settings = settings or get_settings()
    if not mirror_enabled(settings):
        return False
    if client.container_name != settings.models_container:
        log.warning(
            "champion change of %s in container %s not mirrored: the models container is %s",
            pointer["series"],
            client.container_name,
            settings.models_container,
        )
        return False
    try:
        send(ChampionChange.from_pointer(pointer), settings)
    except Exception:
        log.exception("champion change of %s to %s not sent to the outbox", pointer["series"], pointer["version"])
        return False
    return True


def registry_lag(settings: Settings | None = None, now: datetime | None = None) -> dict:
    """How far the Azure ML registry lags the champions, in constant time (for /api/health).

    `pending`: champion changes not yet registered (outbox depth); `failed`: changes that ended in the
    poison queue after every retry; `oldest_pending_seconds`: age of the oldest pending change.
    """
    settings = settings or get_settings()
    if not mirror_enabled(settings):
        return {"mirror": "off"}
    outbox = queue(settings.registry_outbox_queue, settings)
    poison = queue(f"{settings.registry_outbox_queue}-poison", settings)
    pending = outbox.get_queue_properties().approximate_message_count
    oldest = None
    if pending:
        first = next(iter(outbox.peek_messages(max_messages=1)), None)
        if first is not None and first.inserted_on is not None:
            oldest = round(((now or datetime.now(UTC)) - first.inserted_on).total_seconds(), 1)
    return {
        "mirror": "on",
        "workspace": settings.azure_ml_workspace_name,
        "pending": pending,
        "failed": poison.get_queue_properties().approximate_message_count,
        "oldest_pending_seconds": oldest,
    }
