"""The monitor timer's binding: schedule from the DRIFT_SCHEDULE app setting, never on startup, no retries."""

import json

import azure.functions as func

from functions import monitor


def test_monitor_is_a_timer_on_the_drift_schedule_setting():
    app = func.FunctionApp()
    app.register_functions(monitor.bp)
    [fn] = app.get_functions()
    assert fn.get_function_name() == "monitor"
    trigger = fn.get_trigger()
    assert trigger.get_binding_name() == "timerTrigger"
    assert trigger.schedule == "%DRIFT_SCHEDULE%"
    assert not trigger.run_on_startup and trigger.use_monitor
    document = json.loads(fn.get_function_json())
    assert "retry" not in document
    assert [b["type"] for b in document["bindings"]] == ["timerTrigger"]
