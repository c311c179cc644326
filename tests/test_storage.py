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
