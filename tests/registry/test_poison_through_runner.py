"""The real retrain function through the local runner: a request that can never succeed is poisoned at once."""

import json

import pytest

from localrun import Runner
from shared.storage import container, poison_depths, poison_queue_name, queue

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
