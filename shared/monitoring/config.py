"""Monitoring settings (window, cooldown, webhook): a settings group read by shared.settings' one parser."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from shared.settings import from_env, setting, to_env

# The timer's schedule is the app setting DRIFT_SCHEDULE, resolved by the host from the binding
# expression %DRIFT_SCHEDULE%; its documented default lives with the other app settings
# (shared.settings.Settings.drift_schedule, every day at 02:30 UTC).
MIN_WINDOW = 7


@dataclass(frozen=True)
class MonitorSettings:
    """What operators can tune about the monitor; the thresholds are calibrated constants, not settings."""

    window: int | None = setting(None, env="DRIFT_WINDOW", minimum=MIN_WINDOW)  # points; None = by frequency (28 days)
    cooldown_hours: float = setting(24.0, env="DRIFT_COOLDOWN_HOURS", minimum=0.0)  # one alert of a kind per this
    webhook_url: str | None = setting(None, env="DRIFT_WEBHOOK_URL", url=True)  # JSON POST per alert; unset = none
    webhook_timeout: float = setting(5.0, env="DRIFT_WEBHOOK_TIMEOUT_SECONDS", minimum=0.1)

    def as_env(self) -> dict[str, str]:
        """The app settings that reproduce these settings (for child processes and tests)."""
        return to_env(self)


def monitor_settings_from_env(env: Mapping[str, str] | None = None) -> MonitorSettings:
    """Build the monitor settings from an environment mapping (os.environ by default)."""
    return from_env(MonitorSettings, os.environ if env is None else env)


@lru_cache(maxsize=1)
def get_monitor_settings() -> MonitorSettings:
    """The process-wide monitor settings, built on first use."""
    return monitor_settings_from_env()
