"""Upload ingestion: parse and validate a sales file, archive it, merge it into the curated data."""

from shared.ingest.parse import ParsedUpload, parse_upload
from shared.ingest.pipeline import IngestResult, ingest_blob, process_upload, reject_oversized

__all__ = ["IngestResult", "ParsedUpload", "ingest_blob", "parse_upload", "process_upload", "reject_oversized"]
