"""Queue trigger through the runner against Azurite: delivery, retries, poison queue, base64 bodies."""

from __future__ import annotations

import importlib
import json
import uuid

from localrun.storage import encode_message


def _send(store, queue: str, document: dict) -> str:
    client = store.queue(queue)
    text = encode_message(json.dumps(document))
    client.send_message(text)
    return text


def _attempts(tag: str) -> list[int]:
    return importlib.import_module("sample_app").ATTEMPTS.get(tag, [])


def _queue_length(store, queue: str) -> int:
    return store.queue(queue).get_queue_properties().approximate_message_count


def test_message_is_delivered_once_and_deleted(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    tag = uuid.uuid4().hex
    _send(store, sample_env["SAMPLE_QUEUE"], {"tag": tag, "series": "total"})

    assert runner.wait_idle(10)
    [echo] = store.wait_messages(sample_env["SAMPLE_OUT_QUEUE"], 1)
    assert echo["body"] == {"tag": tag, "series": "total"}
    assert echo["dequeue_count"] == 1
    assert _attempts(tag) == [1]
    assert _queue_length(store, sample_env["SAMPLE_QUEUE"]) == 0
    assert runner.counter("on_message").processed == 1


def test_failed_message_is_retried_with_growing_dequeue_count(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    tag = uuid.uuid4().hex
    _send(store, sample_env["SAMPLE_QUEUE"], {"tag": tag, "fail_until": 3})

    assert runner.wait_idle(15)
    assert _attempts(tag) == [1, 2, 3]
    [echo] = store.wait_messages(sample_env["SAMPLE_OUT_QUEUE"], 1)
    assert echo["dequeue_count"] == 3
    counters = runner.counter("on_message")
    assert (counters.processed, counters.failed, counters.poisoned) == (1, 2, 0)
    assert _queue_length(store, sample_env["SAMPLE_QUEUE"]) == 0


def test_message_moves_to_poison_queue_after_max_dequeue_count(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)  # the test host.json sets maxDequeueCount to 3
    tag = uuid.uuid4().hex
    text = _send(store, sample_env["SAMPLE_QUEUE"], {"tag": tag, "fail_until": 99})

    assert runner.wait_idle(15)
    assert _attempts(tag) == [1, 2, 3]
    assert store.peek_raw(f"{sample_env['SAMPLE_QUEUE']}-poison") == [text]
    assert _queue_length(store, sample_env["SAMPLE_QUEUE"]) == 0
    assert store.peek(sample_env["SAMPLE_OUT_QUEUE"]) == []
    counters = runner.counter("on_message")
    assert (counters.processed, counters.failed, counters.poisoned) == (0, 3, 1)


def test_message_that_is_not_base64_goes_to_poison_without_a_call(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    client = store.queue(sample_env["SAMPLE_QUEUE"])
    client.send_message("plain text, not base64!")

    assert runner.wait_idle(10)
    assert store.peek_raw(f"{sample_env['SAMPLE_QUEUE']}-poison") == ["plain text, not base64!"]
    counters = runner.counter("on_message")
    assert (counters.processed, counters.failed, counters.poisoned) == (0, 0, 1)


def test_return_value_goes_to_the_return_output_binding(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    store.queue(sample_env["SAMPLE_RETURN_QUEUE"]).send_message(encode_message("quiet words"))

    assert runner.wait_idle(10)
    assert store.peek(sample_env["SAMPLE_OUT_QUEUE"]) == ["QUIET WORDS"]
    assert runner.counter("shout").processed == 1
