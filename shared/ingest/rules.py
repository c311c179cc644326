"""The configurable upload rules, the dedupe key they feed, and metadata text that storage accepts.

README "Upload rules" states these for users; the defaults come from `shared.settings.Settings`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import date
from urllib.parse import quote, unquote

# Bump when the parser's contract changes what a file means, so an old receipt is no duplicate.
log = logging.getLogger(__name__)

PARSER_VERSION = "2"
# Longest metadata value written (Azure allows 8 KiB for all metadata of a blob together).
MAX_METADATA_CHARS = 2048


@dataclass(frozen=True)
class UploadRules:
    """What a file may contain: size, the earliest date, how far before a series' known data, how far ahead."""

    max_bytes: int = 50 * 1024 * 1024
    earliest_date: date = date(2000, 1, 1)
    max_days_before_series: int = 366
    max_future_days: int = 1

    @classmethod
    def from_settings(cls, settings) -> UploadRules:
        try:
            earliest = date.fromisoformat(settings.upload_earliest_date)
        except ValueError as exc:
            raise ValueError(
                f"app setting UPLOAD_EARLIEST_DATE must be a date YYYY-MM-DD, got {settings.upload_earliest_date!r}"
            ) from exc
        return cls(
            max_bytes=settings.max_upload_bytes,
            earliest_date=earliest,
            max_days_before_series=settings.upload_max_days_before_series,
            max_future_days=settings.upload_max_future_days,
        )


def dedupe_key(sha256: str, target_series: str, rules: UploadRules) -> str:
    """The identity of an upload's outcome: its bytes, the series it targets and every rule that parses it."""
    document = {
        "sha256": sha256,
        "series": target_series,
        "rules": {k: str(v) for k, v in asdict(rules).items()},
        "parser": PARSER_VERSION,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def encode_metadata(value: str) -> str:
    """Metadata text as storage accepts it: ASCII only, percent-encoded (`decode_metadata` reverses it).

    Overlong values are cut (never inside an escape) and marked with a trailing `...`.
    """
    encoded = quote(value, safe="!#$&'()*+,-./:;=?@[]^_`{|}~")
    if len(encoded) <= MAX_METADATA_CHARS:
        return encoded
    cut = encoded[: MAX_METADATA_CHARS - 3]
    escape = cut.rfind("%", len(cut) - 2)
    return (cut[:escape] if escape != -1 else cut) + "..."


def decode_metadata(value: str | None) -> str:
    """The text behind a metadata value written by `encode_metadata` (plain ASCII passes unchanged)."""
    return unquote(value or "")


# Training puts a series on its regular calendar and interpolates what is missing; it fills at most
# this many periods (days for a daily series), so one stray old date cannot make it invent years.
MAX_TRAINING_FILL = 366


def bound_gap_fill(regular, filled: int, raw, limit: int = MAX_TRAINING_FILL):
    """Cut the oldest part of a regularized series until at most `limit` of its values are filled.

    `regular` is `raw` on its full calendar with gaps interpolated, `filled` how many were. Returns
    (series, filled): unchanged within the limit, else the longest recent stretch that starts on an
    observation and fills at most `limit` periods (the cut is logged).
    """
    if filled <= limit:
        return regular, filled
    observed = raw.reindex(regular.index).notna().to_numpy()
    missing_from = (~observed)[::-1].cumsum()[::-1]  # missing values at or after each position
    starts = (observed & (missing_from <= limit)).nonzero()[0]
    start = int(starts[0]) if len(starts) else int(observed.nonzero()[0][-1])
    kept = regular.iloc[start:]
    log.warning(
        "series would need %d filled values; training starts at %s (dropping %d older observation(s)) "
        "so at most %d are filled",
        filled,
        kept.index[0].date(),
        int(observed[:start].sum()),
        limit,
    )
    return kept, int(missing_from[start])
