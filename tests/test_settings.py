"""App settings: one parser for every settings group, blank values take defaults, bad values name the setting."""

from dataclasses import dataclass

import pytest

from shared.monitoring.config import MonitorSettings, monitor_settings_from_env
from shared.settings import Settings, from_env, setting, settings_from_env, to_env


def test_defaults_and_the_storage_connection():
    settings = settings_from_env({"AzureWebJobsStorage": "UseDevelopmentStorage=true", "MAX_UPLOAD_BYTES": " "})
    assert settings == Settings(storage_connection_string="UseDevelopmentStorage=true", storage_account_name=None)


def test_monitor_defaults():
    settings = monitor_settings_from_env({})
    assert settings == MonitorSettings(window=None, cooldown_hours=24.0, webhook_url=None, webhook_timeout=5.0)


@pytest.mark.parametrize(
    ("settings", "read"),
    [
        (
            Settings(
                storage_connection_string="conn",
                storage_account_name=None,
                curated_container="curated-x",
                max_upload_bytes=1024,
                champion_cache_seconds=0,
            ),
            settings_from_env,
        ),
        (
            MonitorSettings(window=14, cooldown_hours=6.5, webhook_url="https://hooks.example/x", webhook_timeout=2),
            monitor_settings_from_env,
        ),
    ],
)
def test_values_round_trip_through_app_settings(settings, read):
    assert read(settings.as_env()) == settings


@pytest.mark.parametrize(
    ("read", "name", "value", "message"),
    [
        (settings_from_env, "MAX_UPLOAD_BYTES", "0", "MAX_UPLOAD_BYTES must be at least 1, got '0'"),
        (settings_from_env, "MAX_UPLOAD_BYTES", "lots", "MAX_UPLOAD_BYTES must be an integer, got 'lots'"),
        (settings_from_env, "CHAMPION_CACHE_SECONDS", "-2", "CHAMPION_CACHE_SECONDS must be at least 0"),
        (settings_from_env, "UPLOAD_MAX_FUTURE_DAYS", "1.5", "UPLOAD_MAX_FUTURE_DAYS must be an integer"),
        (monitor_settings_from_env, "DRIFT_WINDOW", "3", "DRIFT_WINDOW must be at least 7"),
        (monitor_settings_from_env, "DRIFT_WINDOW", "four", "DRIFT_WINDOW must be an integer"),
        (monitor_settings_from_env, "DRIFT_COOLDOWN_HOURS", "-1", "DRIFT_COOLDOWN_HOURS must be at least 0"),
        (monitor_settings_from_env, "DRIFT_COOLDOWN_HOURS", "soon", "DRIFT_COOLDOWN_HOURS must be a number"),
        (monitor_settings_from_env, "DRIFT_WEBHOOK_URL", "ftp://example/x", "DRIFT_WEBHOOK_URL must be an http"),
        (monitor_settings_from_env, "DRIFT_WEBHOOK_TIMEOUT_SECONDS", "0", "TIMEOUT_SECONDS must be at least 0.1"),
    ],
)
def test_bad_values_name_the_setting(read, name, value, message):
    with pytest.raises(ValueError, match=message):
        read({name: value})


@dataclass(frozen=True)
class Group:
    """A settings group of each kind the parser reads."""

    limit: int = setting(3, minimum=1)
    ratio: float = setting(0.5, env="RATIO_SETTING", minimum=0.0)
    hook: str | None = setting(None, url=True)
    label: str = "plain"


def test_one_parser_reads_any_settings_group_by_its_field_types():
    env = {"LIMIT": "7", "RATIO_SETTING": "0.25", "HOOK": "https://hooks.example/a", "LABEL": " tidy "}
    group = from_env(Group, env)
    assert group == Group(limit=7, ratio=0.25, hook="https://hooks.example/a", label="tidy")
    assert to_env(group) == env | {"LABEL": "tidy"}
    assert to_env(Group()) == {"LIMIT": "3", "RATIO_SETTING": "0.5", "LABEL": "plain"}  # unset optional left out
    with pytest.raises(ValueError, match="HOOK must be an http"):
        from_env(Group, {"HOOK": "file:///etc/passwd"})
    with pytest.raises(ValueError, match="RATIO_SETTING must be a number"):
        from_env(Group, {"RATIO_SETTING": "half"})
