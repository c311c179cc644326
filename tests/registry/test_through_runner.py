"""The real function app through the local runner: bad retrain requests, corrupt artifacts over HTTP."""

import json
import urllib.request

import pytest

from localrun import Runner
from shared import registry
from shared.storage import container, poison_depths, poison_queue_name, queue
from tests.e2e.test_local_stack import get
from tests.factories import publish

pytestmark = pytest.mark.slow

BAD = {
    b"{ this is not json": "retrain request is not JSON",
    json.dumps({"series": "total"}).encode(): "retrain request lacks dataset_version",
    json.dumps({"series": "bad id/with slash", "dataset_version": "x"}).encode(): "invalid series id",
}


def test_bad_requests_are_poisoned_on_their_first_delivery_with_the_reason(app_env):
    retrain = queue(app_env.retrain_queue, app_env)
    for body in BAD:
        retrain.send_message(body)
    with Runner(port=0, poll_interval=0.1) as runner:
        assert runner.wait_idle(60)
        counters = runner.counter("retrain")
        assert (counters.processed, counters.failed, counters.poisoned) == (len(BAD), 0, 0)  # no retries
    poison_name = poison_queue_name(app_env.retrain_queue)
    envelopes = [json.loads(m.content) for m in queue(poison_name, app_env).peek_messages(max_messages=32)]
    assert sorted(e["body"].encode() for e in envelopes) == sorted(BAD)
    assert {e["dequeue_count"] for e in envelopes} == {1}
    for envelope in envelopes:
        assert BAD[envelope["body"].encode()] in envelope["reason"]
    assert retrain.get_queue_properties().approximate_message_count == 0
    assert poison_depths(app_env)[poison_name] == len(BAD)
    assert list(container(app_env.models_container, app_env).list_blobs()) == []


def test_a_message_that_is_not_base64_is_poisoned_by_the_runner_like_the_host(app_env):
    """The host cannot decode it for the function either; it keeps the raw text in the poison queue."""
    from azure.storage.queue import QueueClient

    raw = QueueClient.from_connection_string(app_env.storage_connection_string, app_env.retrain_queue)
    raw.send_message("plain text, not base64!")
    with Runner(port=0, poll_interval=0.1) as runner:
        assert runner.wait_idle(60)
        assert runner.counter("retrain").poisoned == 1
    poison = QueueClient.from_connection_string(
        app_env.storage_connection_string, poison_queue_name(app_env.retrain_queue)
    )
    assert [m.content for m in poison.peek_messages()] == ["plain text, not base64!"]


def test_a_fresh_process_serves_the_last_intact_champion_and_lists_the_corrupt_card(app_env):
    good = publish(app_env)
    bad = publish(app_env, level=400.0)
    models = container(app_env.models_container, app_env)
    models.upload_blob(f"total/{bad}/forecast.json", b"\x00 not json", overwrite=True)
    models.upload_blob(f"total/{bad}/card.json", b"{not json", overwrite=True)
    with Runner(port=0, poll_interval=0.2) as runner:
        status, body = get(f"{runner.base_url}/api/forecast?horizon=7")
        assert status == 200 and body["model_version"] == good and len(body["points"]) == 7
        status, body = get(f"{runner.base_url}/api/models?series=total")
        assert status == 200 and body["champion"] == bad
        assert [v["decision"]["outcome"] for v in body["versions"]] == ["first-model", "corrupt"]
        with urllib.request.urlopen(f"{runner.base_url}/api/dashboard?series=total", timeout=10) as page:
            assert page.status == 200 and good in page.read().decode()
    assert registry.corrupt_series(models) == ["total"]
