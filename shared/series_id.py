"""The series-id rule, stated once: what the upload contract, the API and the retrain queue accept."""

from __future__ import annotations

import re

# Anchored, for the OpenAPI `pattern` (JSON Schema patterns are unanchored searches).
SERIES_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SERIES_ID_RULE = "series_id must be 1-64 letters, digits, '.', '_' or '-'"
_SERIES_ID = re.compile(SERIES_ID_PATTERN, re.ASCII)


def is_series_id(value: object) -> bool:
    """Whether `value` is a series id: a string of 1-64 ASCII letters, digits, '.', '_' or '-', not starting
    with '.', '_' or '-' (so `_fleet/` and other bookkeeping prefixes never collide with a series)."""
    return isinstance(value, str) and _SERIES_ID.fullmatch(value) is not None
