"""Typed application settings, read lazily from the environment (never at import)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import Field, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TypeVar, get_args, get_type_hints
from urllib.parse import urlparse

from shared.errors import ConfigurationError

log = logging.getLogger(__name__)

DEFAULT_CONNECTION_SETTING = "AzureWebJobsStorage"
T = TypeVar("T")


def setting(default, *, env: str | None = None, minimum: float | None = None, url: bool = False):
    """A settings field: its app setting (`env`; default the field's name in capitals) and its rule, a minimum
    for numbers or that a text value must be an http(s) URL."""
    return field(default=default, metadata={"env": env, "minimum": minimum, "url": url})


def app_setting_name(f: Field) -> str:
    return f.metadata.get("env") or f.name.upper()


def _parse(f: Field, kind: type, raw: str):
    """One app setting's text as the field's type, checked against the field's rule; errors name the setting."""
    name = app_setting_name(f)
    rule = f.metadata
    if kind in (int, float):
        try:
            value = kind(raw)
        except ValueError as exc:
            article = "an integer" if kind is int else "a number"
            raise ValueError(f"app setting {name} must be {article}, got {raw!r}") from exc
        minimum = rule.get("minimum")
        if minimum is not None and not value >= minimum:
            raise ValueError(f"app setting {name} must be at least {minimum:g}, got {raw!r}")
        return value
    if rule.get("url"):
        parts = urlparse(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"app setting {name} must be an http(s) URL, got {raw!r}")
    return raw


def from_env(cls: type[T], env: Mapping[str, str], **given) -> T:
    """Build a settings dataclass from its app settings (each field's name in capitals unless it says otherwise).

    Every settings group is read by this one function: a blank or missing setting takes the field's default,
    and a value that does not parse or breaks the field's rule (see `setting`) raises ValueError naming it.
    Fields passed in `given` are not read.
    """
    hints = get_type_hints(cls)
    values = dict(given)
    for f in fields(cls):
        if f.name in values:
            continue
        raw = env.get(app_setting_name(f), "").strip()
        if raw:
            kind = next((t for t in get_args(hints[f.name]) if t is not type(None)), hints[f.name])
            values[f.name] = _parse(f, kind, raw)
    return cls(**values)


def to_env(instance, names: list[str] | None = None) -> dict[str, str]:
    """The app settings that reproduce a settings dataclass (unset optional values are left out)."""
    env = {}
    for f in fields(instance):
        value = getattr(instance, f.name)
        if value is not None and (names is None or f.name in names):
            env[app_setting_name(f)] = f"{value:g}" if isinstance(value, float) else str(value)
    return env


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
    monitor_queue: str = "monitor-requests"  # the monitor timer's check requests (binding %MONITOR_QUEUE%)
    max_upload_bytes: int = setting(50 * 1024 * 1024, minimum=1)
    upload_earliest_date: str = "2000-01-01"  # README "Upload rules": the date plausibility rule
    upload_max_days_before_series: int = setting(366, minimum=0)
    upload_max_future_days: int = setting(1, minimum=0)
    default_series: str = "total"
    champion_cache_seconds: int = setting(2, minimum=0)
    drift_schedule: str = "0 30 2 * * *"  # NCRONTAB of the monitor timer (binding %DRIFT_SCHEDULE%)
    # Azure ML (docs/deploy.md "Azure ML: registry mirror and bulk retraining"): the workspace that mirrors the
    # champions (the mirror is off while AZURE_ML_WORKSPACE_NAME is blank) and the cluster of the bulk retraining job.
    registry_outbox_queue: str = "registry-outbox"
    azure_ml_subscription_id: str = ""
    azure_ml_resource_group: str = ""
    azure_ml_workspace_name: str = ""
    azure_ml_compute: str = "cpu-cluster"

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

    @property
    def queues(self) -> tuple[str, ...]:
        """Every queue the app reads (each `*_queue` setting); each has a `-poison` twin."""
        return tuple(getattr(self, field.name) for field in fields(self) if field.name.endswith("_queue"))

    def as_env(self, connection_setting: str = DEFAULT_CONNECTION_SETTING) -> dict[str, str]:
        """The app settings that reproduce these settings (for child processes and tests)."""
        env = to_env(self, [f.name for f in app_setting_fields()])
        if self.storage_connection_string:
            env[connection_setting] = self.storage_connection_string
        if self.storage_account_name:
            env[f"{connection_setting}__accountName"] = self.storage_account_name
        return env


def app_setting_fields() -> list[Field]:
    """The settings read from an app setting of their own name in capitals (all but the storage account)."""
    return [f for f in fields(Settings) if f.name not in ("storage_connection_string", "storage_account_name")]


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping (os.environ by default); blank values take the default."""
    env = os.environ if env is None else env
    conn_name = env.get("STORAGE_CONNECTION_SETTING", DEFAULT_CONNECTION_SETTING)
    return from_env(
        Settings,
        env,
        storage_connection_string=env.get(conn_name) or None,
        storage_account_name=env.get(f"{conn_name}__accountName") or None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return settings_from_env()


def load_local_settings(path: Path | str, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Copy local.settings.json "Values" into the environment like `func start`; existing variables win.

    Returns the values that were applied.
    """
    environ = os.environ if environ is None else environ
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{path} not found: copy local.settings.sample.json to {path.name}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid JSON: {exc}") from exc
    values = document.get("Values") or {}
    if not isinstance(values, dict):
        raise ConfigurationError(f'{path}: "Values" must be an object of app settings')
    applied: dict[str, str] = {}
    for name, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        if name in environ:
            log.info("Skipping '%s' from %s: already set in the environment", name, path.name)
            continue
        environ[name] = text
        applied[name] = text
    return applied
