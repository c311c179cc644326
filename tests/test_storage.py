"""Storage clients: connection string (Azurite) or the account name with one managed-identity credential."""

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from shared.settings import Settings
from shared.storage import _client, probe


def test_an_account_name_gives_both_services_one_shared_credential():
    settings = Settings(storage_connection_string=None, storage_account_name="stdataexample")
    blob, queue = _client(BlobServiceClient, settings, "blob"), _client(QueueServiceClient, settings, "queue")
    assert blob.url == "https://stdataexample.blob.core.windows.net/"
    assert queue.url == "https://stdataexample.queue.core.windows.net/"
    assert blob.credential is queue.credential


def test_no_storage_configured_is_a_clear_error():
    with pytest.raises(RuntimeError, match="AzureWebJobsStorage"):
        _client(BlobServiceClient, Settings(storage_connection_string=None, storage_account_name=None), "blob")


def test_probe_passes_on_azurite_and_fails_fast_where_nothing_listens(settings):
    probe(settings)
    nowhere = settings.storage_connection_string.replace(str(_blob_port(settings)), "9")
    with pytest.raises(ServiceRequestError):
        probe(Settings(storage_connection_string=nowhere, storage_account_name=None), timeout=1.0)


def _blob_port(settings) -> int:
    endpoint = next(p for p in settings.storage_connection_string.split(";") if p.startswith("BlobEndpoint="))
    return int(endpoint.rsplit(":", 1)[1].split("/")[0])


def test_poison_depths_counts_each_poison_queue_and_a_missing_one_as_zero(settings):
    from shared.storage import BLOB_TRIGGER_POISON_QUEUE, poison_depths, poison_queue_name, queue

    poison = poison_queue_name(settings.retrain_queue)
    for body in (b"a", b"b"):
        queue(poison, settings).send_message(body)
    missing = f"nothing-{settings.retrain_queue}-poison"
    assert poison_depths(settings, (poison, missing)) == {poison: 2, missing: 0}
    defaults = poison_depths(settings)
    assert set(defaults) == {*map(poison_queue_name, settings.queues), BLOB_TRIGGER_POISON_QUEUE}
    assert defaults[poison] == 2
    assert poison_queue_name(settings.registry_outbox_queue) in defaults


def test_request_path_clients_give_up_where_nothing_listens(settings):
    from shared.storage import bounded_container, poison_depths

    nowhere = Settings(
        storage_connection_string=settings.storage_connection_string.replace(str(_blob_port(settings)), "9"),
        storage_account_name=None,
    )
    with pytest.raises(ServiceRequestError):
        bounded_container("models", nowhere).get_container_properties()
    queue_port = next(p for p in settings.storage_connection_string.split(";") if p.startswith("QueueEndpoint="))
    no_queue = Settings(
        storage_connection_string=settings.storage_connection_string.replace(
            queue_port.rsplit(":", 1)[1].split("/")[0], "9"
        ),
        storage_account_name=None,
    )
    with pytest.raises(ServiceRequestError):
        poison_depths(no_queue)


def test_a_deadline_fits_each_call_in_what_is_left_and_then_refuses(monkeypatch):
    from shared import storage
    from shared.errors import StorageUnavailable

    clock = iter([100.0, 100.0, 101.0, 101.4, 102.0])
    monkeypatch.setattr(storage.time, "monotonic", lambda: next(clock))
    deadline = storage.Deadline(1.5)
    assert deadline.options() == {"connection_timeout": 0.4, "read_timeout": 0.6, "retry_total": 1}
    assert deadline.options() == {"connection_timeout": 0.4, "read_timeout": 0.5, "retry_total": 0}
    assert deadline.options() == pytest.approx({"connection_timeout": 0.1, "read_timeout": 0.1, "retry_total": 0})
    with pytest.raises(StorageUnavailable, match=r"within 1\.5 s"):
        deadline.options()
