"""Loading apps: functions found from their own metadata, and clear errors for what cannot be served."""

from __future__ import annotations

import importlib
import json

import pytest

from localrun.config import ConfigurationError, MissingSettingError
from localrun.loading import describe_functions
from localrun.runner import Runner
from tests.localrun.conftest import APPS


def test_introspection_finds_every_function_with_its_trigger():
    infos = Runner("sample_app", APPS).functions()

    assert {i.name: i.trigger_type for i in infos} == {
        "on_blob": "blobTrigger",
        "on_message": "queueTrigger",
        "shout": "queueTrigger",
        "tick": "timerTrigger",
        "slow_tick": "timerTrigger",
        "health": "httpTrigger",
    }
    by_name = {i.name: i for i in infos}
    assert by_name["on_blob"].binding["path"] == "%SAMPLE_IN_CONTAINER%/{name}"
    assert by_name["on_message"].binding["queueName"] == "%SAMPLE_QUEUE%"
    assert by_name["slow_tick"].binding["runOnStartup"] is True
    assert by_name["health"].binding["route"] == "health"
    outputs = {b["name"]: b["type"] for b in by_name["on_blob"].bindings if b["direction"] == "OUT"}
    assert outputs == {"report": "blob"}
    json.dumps([i.bindings for i in infos])  # the function.json form is plain JSON


def test_describe_functions_can_be_called_repeatedly_on_one_app():
    Runner("sample_app", APPS).functions()  # imports the module with the apps folder on sys.path
    app = importlib.import_module("sample_app").app
    first, second = describe_functions(app), describe_functions(app)
    assert first == second
    assert len(first) == 6


def test_unsupported_trigger_is_refused_at_start():
    with pytest.raises(ConfigurationError, match=r"on_event.*eventHubTrigger.*not supported"):
        Runner("unsupported_app", APPS, port=0).start()


def test_input_binding_is_refused_at_start():
    with pytest.raises(ConfigurationError, match=r"with_input.*input binding 'config'"):
        Runner("input_binding_app", APPS, port=0).start()


def test_missing_setting_is_named(sample_env):
    env = {k: v for k, v in sample_env.items() if k != "SAMPLE_QUEUE"}
    runner = Runner("sample_app", APPS, port=0, env=env)
    with pytest.raises(MissingSettingError, match=r"on_message.*'SAMPLE_QUEUE'"):
        runner.start()
    with pytest.raises(RuntimeError, match="not started"):
        runner.port  # noqa: B018 - nothing was left running


def test_missing_connection_is_named(sample_env):
    env = {**sample_env, "AzureWebJobsStorage": ""}
    with pytest.raises(MissingSettingError, match="AzureWebJobsStorage"):
        Runner("sample_app", APPS, port=0, env=env).start()


def test_module_that_cannot_be_imported():
    with pytest.raises(ConfigurationError, match="importing 'no_such_app'"):
        Runner("no_such_app", APPS, port=0).start()


def test_module_without_a_function_app():
    with pytest.raises(ConfigurationError, match=r"no attribute that is an azure\.functions\.FunctionApp"):
        Runner("localrun.config", APPS, port=0).start()
