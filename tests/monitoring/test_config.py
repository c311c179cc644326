"""Monitor settings from app settings: defaults, parsing, and errors that name the setting."""

import pytest

from shared.monitoring.config import MonitorSettings, monitor_settings_from_env


def test_defaults():
    settings = monitor_settings_from_env({})
    assert settings == MonitorSettings(window=None, cooldown_hours=24.0, webhook_url=None, webhook_timeout=5.0)


def test_values_round_trip_through_app_settings():
    settings = MonitorSettings(window=14, cooldown_hours=6.5, webhook_url="https://hooks.example/x", webhook_timeout=2)
    assert monitor_settings_from_env(settings.as_env()) == settings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DRIFT_WINDOW", "3", "DRIFT_WINDOW"),
        ("DRIFT_WINDOW", "four", "DRIFT_WINDOW"),
        ("DRIFT_COOLDOWN_HOURS", "-1", "DRIFT_COOLDOWN_HOURS"),
        ("DRIFT_COOLDOWN_HOURS", "soon", "DRIFT_COOLDOWN_HOURS"),
        ("DRIFT_WEBHOOK_URL", "ftp://example/x", "DRIFT_WEBHOOK_URL"),
        ("DRIFT_WEBHOOK_TIMEOUT_SECONDS", "0", "DRIFT_WEBHOOK_TIMEOUT_SECONDS"),
    ],
)
def test_bad_values_name_the_setting(name, value, message):
    with pytest.raises(ValueError, match=message):
        monitor_settings_from_env({name: value})
