"""Blob trigger: a file landed in the incoming container is ingested."""

import os

import azure.functions as func

bp = func.Blueprint()

# Event Grid delivers blob events within seconds and misses none; the container scan is the
# fallback for hosts without an Event Grid subscription (set INGEST_TRIGGER_SOURCE to it).
_SOURCE = (
    func.BlobSource.LOGS_AND_CONTAINER_SCAN
    if os.environ.get("INGEST_TRIGGER_SOURCE", "").lower() == "logsandcontainerscan"
    else func.BlobSource.EVENT_GRID
)


@bp.function_name("ingest")
@bp.blob_trigger(arg_name="blob", path="%INCOMING_CONTAINER%/{name}", connection="AzureWebJobsStorage", source=_SOURCE)
def ingest(blob: func.InputStream) -> None:
    from shared.ingest import ingest_blob

    name = blob.name.split("/", 1)[1] if "/" in blob.name else blob.name
    ingest_blob(name, blob.length, blob.read, metadata=dict(blob.metadata or {}))
