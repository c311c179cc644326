"""Upload ingestion: parse and validate a sales file, archive it, merge it into the curated data."""

from shared.ingest.parse import ParsedUpload, parse_upload
from shared.ingest.pipeline import IngestResult, process_upload

__all__ = ["IngestResult", "ParsedUpload", "parse_upload", "process_upload"]
