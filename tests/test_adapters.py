"""The ingest and retrain trigger adapters called directly with real azure.functions types, on Azurite."""

import json

import azure.functions as func
import pytest

from localrun.sample import monthly_files
from shared import registry
from shared.ingest.curated import read_manifest, read_series
from shared.storage import container, queue

MONTHS = monthly_files()


def _blob(settings, name: str, data: bytes, metadata: dict | None = None) -> func.InputStream:
    """The stream the host hands the blob trigger: `name` is `<container>/<blob>`."""
    return func.blob.InputStream(
        data=data,
        name=f"{settings.incoming_container}/{name}",
        length=len(data),
        uri=f"http://127.0.0.1/devstoreaccount1/{settings.incoming_container}/{name}",
        metadata=metadata or {},
    )


def _ingest(settings, index: int) -> None:
    from functions.ingest import ingest

    name, data = MONTHS[index]
    container(settings.incoming_container, settings).upload_blob(name, data)
    ingest.build().get_user_function()(blob=_blob(settings, name, data))


def test_ingest_adapter_curates_the_blob_and_requests_a_retrain(app_env):
    _ingest(app_env, 0)
    curated = container(app_env.curated_container, app_env)
    series = read_series(curated, "total")
    assert series is not None and len(series.days) == MONTHS[0][1].decode().count("\n") - 1
    assert read_manifest(curated)["series"]["total"]["version"] == series.version
    requests = [json.loads(m.content) for m in queue(app_env.retrain_queue, app_env).peek_messages(max_messages=32)]
    assert [(r["series"], r["dataset_version"]) for r in requests] == [("total", series.version)]
    assert [b.name for b in container(app_env.incoming_container, app_env).list_blobs()] == []


def test_ingest_adapter_takes_the_series_from_blob_metadata(app_env):
    from functions.ingest import ingest

    name, data = MONTHS[1]
    container(app_env.incoming_container, app_env).upload_blob(name, data, metadata={"series_id": "store-7"})
    ingest.build().get_user_function()(blob=_blob(app_env, name, data, {"series_id": "store-7"}))
    curated = container(app_env.curated_container, app_env)
    assert read_series(curated, "store-7") is not None and read_series(curated, "total") is None


def _message(body: bytes, dequeue_count: int = 1) -> func.QueueMessage:
    return func.queue.QueueMessage(id="msg-1", body=body, pop_receipt="receipt", dequeue_count=dequeue_count)


@pytest.mark.slow
def test_retrain_adapter_publishes_a_champion_for_the_queued_request(app_env):
    from functions.retrain import retrain

    for index in (0, 1, 2):
        _ingest(app_env, index)
    message = queue(app_env.retrain_queue, app_env).peek_messages(max_messages=32)[-1]
    retrain.build().get_user_function()(msg=_message(message.content))
    models = container(app_env.models_container, app_env)
    pointer, _ = registry.read_champion(models, "total")
    card = registry.read_card(models, "total", pointer["version"])
    request = json.loads(message.content)
    assert card["dataset"]["version"] == request["dataset_version"]
    assert card["correlation_id"] == request["correlation_id"]  # the upload's, carried through the queue


def test_retrain_adapter_poisons_a_request_that_can_never_succeed(app_env):
    from functions.retrain import retrain
    from shared.storage import poison_queue_name

    body = json.dumps({"series": "_not an id", "dataset_version": "v1"}).encode()
    retrain.build().get_user_function()(msg=_message(body, dequeue_count=1))  # returns: the host deletes it
    poisoned = queue(poison_queue_name(app_env.retrain_queue), app_env).peek_messages(max_messages=32)
    assert len(poisoned) == 1 and b"_not an id" in poisoned[0].content
    assert [b.name for b in container(app_env.models_container, app_env).list_blobs()] == []
