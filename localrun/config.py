"""App settings and host.json for the local runner: local.settings.json, %SETTING% expressions, options."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import ConfigurationError

log = logging.getLogger(__name__)

SETTING_EXPRESSION = re.compile(r"%([^%]+)%")
TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")
HOST_ID_SETTING = "AzureFunctionsWebHost__hostid"
HOST_ID_MAX_LENGTH = 32


class MissingSettingError(ConfigurationError):
    """A binding refers to an app setting that is not defined."""


def resolve_settings(value: str, env: Mapping[str, str], what: str) -> str:
    """Replace each %NAME% in a binding attribute with the app setting NAME, as the host does."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise MissingSettingError(f"{what} refers to app setting '{name}' (%{name}%), which is not set")
        return env[name]

    return SETTING_EXPRESSION.sub(substitute, value)


def parse_timespan(text: str) -> float:
    """Seconds in a .NET TimeSpan string such as "00:00:30" or "1.02:00:00"."""
    match = TIMESPAN.match(text.strip())
    if not match:
        raise ConfigurationError(f"{text!r} is not a TimeSpan like 00:00:30")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


def default_host_id(env: Mapping[str, str]) -> str:
    """The host id that names receipts: the setting if present, else the machine name like Core Tools."""
    if env.get(HOST_ID_SETTING):
        return env[HOST_ID_SETTING]
    name = re.sub(r"[^a-z0-9-]", "-", socket.gethostname().lower())[:HOST_ID_MAX_LENGTH]
    return name.strip("-") or "localhost"


@dataclass(frozen=True)
class QueueOptions:
    """host.json extensions.queues, with the host's defaults."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0

    @property
    def concurrency(self) -> int:
        """Most messages in flight at once per function, as the host computes it."""
        return self.batch_size + self.new_batch_threshold


@dataclass(frozen=True)
class HostConfig:
    """The parts of host.json the local runner honours."""

    route_prefix: str = "api"
    queues: QueueOptions = QueueOptions()

    @classmethod
    def from_file(cls, path: Path) -> HostConfig:
        if not path.exists():
            log.info("%s not found: using the host defaults", path)
            return cls()
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{path} is not valid JSON: {exc}") from exc
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> HostConfig:
        extensions = document.get("extensions") or {}
        http = extensions.get("http") or {}
        queues = extensions.get("queues") or {}
        batch_size = int(queues.get("batchSize", 16))
        if not 1 <= batch_size <= 32:
            raise ConfigurationError(f"host.json extensions.queues.batchSize must be 1..32, got {batch_size}")
        visibility = queues.get("visibilityTimeout", "00:00:00")
        return cls(
            route_prefix=str(http.get("routePrefix", "api")).strip("/"),
            queues=QueueOptions(
                batch_size=batch_size,
                new_batch_threshold=int(queues.get("newBatchThreshold", batch_size // 2)),
                max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
                visibility_timeout=parse_timespan(str(visibility)),
            ),
        )
