"""Monitoring settings (window, cooldown, webhook), read lazily from app settings like shared.settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

# The timer's schedule is the app setting DRIFT_SCHEDULE, resolved by the host from the binding
# expression %DRIFT_SCHEDULE%; its documented default lives with the other app settings
# (shared.settings.Settings.drift_schedule, every day at 02:30 UTC).
MIN_WINDOW = 7


@dataclass(frozen=True)
class MonitorSettings:
    """What operators can tune about the monitor; the thresholds are calibrated constants, not settings."""

    window: int | None = None  # DRIFT_WINDOW: points in the recent window; None = by frequency (28 days)
    cooldown_hours: float = 24.0  # DRIFT_COOLDOWN_HOURS: no second alert of one kind per series within this
    webhook_url: str | None = None  # DRIFT_WEBHOOK_URL: JSON POST per alert; unset = no webhook
    webhook_timeout: float = 5.0  # DRIFT_WEBHOOK_TIMEOUT_SECONDS

    def as_env(self) -> dict[str, str]:
        """The app settings that reproduce these settings (for child processes and tests)."""
        env = {
            "DRIFT_COOLDOWN_HOURS": f"{self.cooldown_hours:g}",
            "DRIFT_WEBHOOK_TIMEOUT_SECONDS": f"{self.webhook_timeout:g}",
        }
        if self.window:
            env["DRIFT_WINDOW"] = str(self.window)
        if self.webhook_url:
            env["DRIFT_WEBHOOK_URL"] = self.webhook_url
        return env


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"app setting {name} must be a number, got {raw!r}") from exc
    if not value >= minimum:
        raise ValueError(f"app setting {name} must be at least {minimum:g}, got {raw!r}")
    return value


def monitor_settings_from_env(env: Mapping[str, str] | None = None) -> MonitorSettings:
    """Build the monitor settings from an environment mapping (os.environ by default)."""
    env = os.environ if env is None else env
    defaults = MonitorSettings()
    raw_window = env.get("DRIFT_WINDOW", "").strip()
    window = None
    if raw_window:
        if not raw_window.isdigit() or int(raw_window) < MIN_WINDOW:
            raise ValueError(f"app setting DRIFT_WINDOW must be a whole number >= {MIN_WINDOW}, got {raw_window!r}")
        window = int(raw_window)
    url = env.get("DRIFT_WEBHOOK_URL", "").strip() or None
    if url is not None and (urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc):
        raise ValueError(f"app setting DRIFT_WEBHOOK_URL must be an http(s) URL, got {url!r}")
    return MonitorSettings(
        window=window,
        cooldown_hours=_number(env, "DRIFT_COOLDOWN_HOURS", defaults.cooldown_hours, 0.0),
        webhook_url=url,
        webhook_timeout=_number(env, "DRIFT_WEBHOOK_TIMEOUT_SECONDS", defaults.webhook_timeout, 0.1),
    )


@lru_cache(maxsize=1)
def get_monitor_settings() -> MonitorSettings:
    """The process-wide monitor settings, built on first use."""
    return monitor_settings_from_env()
