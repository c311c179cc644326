"""Typed application settings, read lazily from the environment (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_CONNECTION_SETTING = "AzureWebJobsStorage"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"app setting {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything configurable about ForecastOps; defaults match README "Flow and storage"."""

    storage_connection_string: str | None
    storage_account_name: str | None
    incoming_container: str = "sales-incoming"
    archive_container: str = "sales-archive"
    quarantine_container: str = "sales-quarantine"
    curated_container: str = "sales-curated"
    models_container: str = "models"
    monitoring_container: str = "monitoring"
    retrain_queue: str = "retrain-requests"
    max_upload_bytes: int = 50 * 1024 * 1024
    default_series: str = "total"
    champion_cache_seconds: int = 2
    drift_schedule: str = "0 30 2 * * *"  # NCRONTAB of the monitor timer (binding %DRIFT_SCHEDULE%)

    @property
    def containers(self) -> tuple[str, ...]:
        return (
            self.incoming_container,
            self.archive_container,
            self.quarantine_container,
            self.curated_container,
            self.models_container,
            self.monitoring_container,
        )

    def as_env(self, connection_setting: str = DEFAULT_CONNECTION_SETTING) -> dict[str, str]:
        """The app settings that reproduce these settings (for child processes and tests)."""
        env = {
            "INCOMING_CONTAINER": self.incoming_container,
            "ARCHIVE_CONTAINER": self.archive_container,
            "QUARANTINE_CONTAINER": self.quarantine_container,
            "CURATED_CONTAINER": self.curated_container,
            "MODELS_CONTAINER": self.models_container,
            "MONITORING_CONTAINER": self.monitoring_container,
            "RETRAIN_QUEUE": self.retrain_queue,
            "MAX_UPLOAD_BYTES": str(self.max_upload_bytes),
            "DEFAULT_SERIES": self.default_series,
            "CHAMPION_CACHE_SECONDS": str(self.champion_cache_seconds),
            "DRIFT_SCHEDULE": self.drift_schedule,
        }
        if self.storage_connection_string:
            env[connection_setting] = self.storage_connection_string
        if self.storage_account_name:
            env[f"{connection_setting}__accountName"] = self.storage_account_name
        return env


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping (os.environ by default)."""
    env = os.environ if env is None else env
    conn_name = env.get("STORAGE_CONNECTION_SETTING", DEFAULT_CONNECTION_SETTING)
    defaults = Settings(None, None)

    def pick(name: str, default: str) -> str:
        value = env.get(name, "").strip()
        return value or default

    return Settings(
        storage_connection_string=env.get(conn_name) or None,
        storage_account_name=env.get(f"{conn_name}__accountName") or None,
        incoming_container=pick("INCOMING_CONTAINER", defaults.incoming_container),
        archive_container=pick("ARCHIVE_CONTAINER", defaults.archive_container),
        quarantine_container=pick("QUARANTINE_CONTAINER", defaults.quarantine_container),
        curated_container=pick("CURATED_CONTAINER", defaults.curated_container),
        models_container=pick("MODELS_CONTAINER", defaults.models_container),
        monitoring_container=pick("MONITORING_CONTAINER", defaults.monitoring_container),
        retrain_queue=pick("RETRAIN_QUEUE", defaults.retrain_queue),
        max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", defaults.max_upload_bytes),
        default_series=pick("DEFAULT_SERIES", defaults.default_series),
        champion_cache_seconds=_int(env, "CHAMPION_CACHE_SECONDS", defaults.champion_cache_seconds),
        drift_schedule=pick("DRIFT_SCHEDULE", defaults.drift_schedule),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return settings_from_env()
