"""Settings and host.json: local.settings.json like func start, %SETTING% expressions, TimeSpans, defaults."""

from __future__ import annotations

import json

import pytest

from localrun.config import (
    ConfigurationError,
    HostConfig,
    MissingSettingError,
    parse_timespan,
    resolve_settings,
)
from localrun.outputs import BindingExpressionError, expand
from localrun.storage import Storage
from shared.settings import load_local_settings
from tests.localrun.conftest import APPS


def test_local_settings_fill_the_environment_but_existing_variables_win(tmp_path):
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "from-file", "B": "file", "FLAG": True}}))
    environ = {"A": "from-env"}

    applied = load_local_settings(path, environ)

    assert environ == {"A": "from-env", "B": "file", "FLAG": "true"}
    assert applied == {"B": "file", "FLAG": "true"}


def test_missing_local_settings_says_where_to_start(tmp_path):
    with pytest.raises(ConfigurationError, match=r"local\.settings\.sample\.json"):
        load_local_settings(tmp_path / "local.settings.json", {})


def test_setting_expressions_are_resolved_and_missing_ones_named():
    assert resolve_settings("%IN%/{name}", {"IN": "sales-incoming"}, "path") == "sales-incoming/{name}"
    with pytest.raises(MissingSettingError, match="'DRIFT_SCHEDULE'"):
        resolve_settings("%DRIFT_SCHEDULE%", {}, "function 'monitor' schedule")


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:00:30", 30), ("00:10:00", 600), ("1.02:00:01", 93601), ("00:00:00.5", 0.5)]
)
def test_timespans(text, seconds):
    assert parse_timespan(text) == seconds


def test_bad_timespan():
    with pytest.raises(ConfigurationError, match="TimeSpan"):
        parse_timespan("30s")


def test_host_defaults_match_the_functions_host():
    host = HostConfig.from_dict({"version": "2.0"})
    assert host.route_prefix == "api"
    assert (host.queues.batch_size, host.queues.new_batch_threshold) == (16, 8)
    assert (host.queues.max_dequeue_count, host.queues.visibility_timeout) == (5, 0.0)


def test_host_json_is_read():
    host = HostConfig.from_file(APPS / "host.json")
    assert (host.queues.max_dequeue_count, host.queues.batch_size, host.queues.concurrency) == (3, 4, 6)
    assert HostConfig.from_dict({"extensions": {"http": {"routePrefix": ""}}}).route_prefix == ""
    with pytest.raises(ConfigurationError, match="batchSize"):
        HostConfig.from_dict({"extensions": {"queues": {"batchSize": 64}}})


def test_connection_settings_like_the_host():
    env = {
        "CONN": "Sales",
        "Sales": "UseDevelopmentStorage=true",
        "AzureWebJobsOther": "conn-other",
        "Id__accountName": "a",
    }
    storage = Storage(env)
    assert storage.connection_string("%CONN%") == "UseDevelopmentStorage=true"
    assert storage.connection_string("Other") == "conn-other"  # the AzureWebJobs prefix is tried too
    with pytest.raises(ConfigurationError, match="identity-based"):
        storage.connection_string("Id")
    with pytest.raises(MissingSettingError, match="'AzureWebJobsStorage'"):
        storage.connection_string(None)


def test_output_binding_expressions():
    data = {"name": "jan.csv", "queueTrigger": "x"}
    assert expand("reports/{Name}.json", data, "out") == "reports/jan.csv.json"
    assert len(expand("{rand-guid}", data, "out")) == 36
    with pytest.raises(BindingExpressionError, match=r"\{series\}.*name, queueTrigger"):
        expand("models/{series}", data, "output 'out'")
