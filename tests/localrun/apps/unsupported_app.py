"""Test app for the local runner: an Event Hubs trigger, which the runner must refuse at start."""

import azure.functions as func

app = func.FunctionApp()


@app.event_hub_message_trigger(arg_name="event", event_hub_name="sales", connection="EventHubConnection")
def on_event(event: func.EventHubEvent) -> None:
    raise AssertionError("never called: the runner refuses this trigger")
