"""The fleet index: one metadata-only blob per series, listed a page at a time, and its summary.

Layout, in the monitoring container (series ids cannot start with `_`, so no series collides):

- `_fleet/series/{series}`: an empty blob whose metadata is the series' row in the fleet:
  `champion`, `model`, `mase`, `data_through`, `promoted_at`, `fallback` (written when a champion is
  set) and `status`, `checked_at` (written when the monitor stores a report); `corrupt` is the name of
  an artifact found corrupt (set by serving when a champion fails verification, cleared by the next
  champion). A page of `GET /api/series` is one list call with metadata, whatever the size of the estate.
- `_fleet/status/{status}/{series}`: the per-status index, an empty blob per series under its current status
  (`not-checked` until the first report) carrying a copy of the entry's metadata, so a page filtered by
  status is one list call too. Each entry write moves or refreshes its series' index blob; `summarize`,
  which lists the whole fleet anyway, repairs what concurrent writes of one series may leave out of step.
- `_fleet/summary.json`: counts by status, the series that drift or decay, the worst MASE and the last
  check, computed from a full listing by `summarize` (the `fleet_summary` timer, every five minutes, and
  the overview when the stored one is older than SUMMARY_MAX_AGE). Its counts are also kept as metadata
  of the monitoring container, so the public health reads them with the one call that checks that every
  container exists.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from shared.errors import BadParameter
from shared.schemas import FLEET_STATUSES as STATUSES
from shared.storage import read_change_write, read_json, write_json

log = logging.getLogger(__name__)

PREFIX = "_fleet/series/"
STATUS_PREFIX = "_fleet/status/"
SUMMARY = "_fleet/summary.json"
SUMMARY_MAX_AGE_SECONDS = 60
MAX_PAGE = 1000  # entries per list call a cursor may ask for
NOT_CHECKED = "not-checked"
ALERTING = ("drift", "decay", "drift+decay")
TOP = 20
COUNT_PREFIX = "fleet_"  # container metadata keys of the counts


def entry_name(series: str) -> str:
    return f"{PREFIX}{series}"


def status_name(status: str, series: str) -> str:
    return f"{STATUS_PREFIX}{status}/{series}"


def _filled(metadata: dict) -> dict:
    """Metadata without its empty fields (a listing returns them as None, and they mean the same as absent)."""
    return {k: v for k, v in metadata.items() if v}


def status_of(metadata: dict) -> str:
    return metadata.get("status") or NOT_CHECKED


def index_status(client: ContainerClient, series: str, metadata: dict, before: dict | None) -> None:
    """Put the series' entry copy under its status in the index, and take it from the status it had `before`."""
    status = status_of(metadata)
    client.upload_blob(status_name(status, series), b"", metadata=_filled(metadata), overwrite=True)
    if before is not None and status_of(before) != status:
        with contextlib.suppress(ResourceNotFoundError):
            client.delete_blob(status_name(status_of(before), series))


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def record(
    client: ContainerClient, series: str, fields: dict, *, newer_than: str | None = None, new: bool = False
) -> dict:
    """Merge `fields` into the series' entry (ETag-guarded); `newer_than` names the field that orders writes.

    A write whose `newer_than` field is older than the stored one is dropped (a late retrain or report
    never replaces a newer one). `new` says the entry most likely does not exist yet (a series' first
    champion): it is then created without reading first, and merged as usual if it exists after all.
    Returns the entry as stored.
    """
    blob = client.get_blob_client(entry_name(series))
    fields = {k: text(v) for k, v in fields.items()}
    create_first = new

    def create() -> tuple[dict, None]:
        blob.upload_blob(b"", metadata=fields, overwrite=False)
        return fields, None

    def once() -> tuple[dict, dict | None]:
        nonlocal create_first
        if create_first:
            create_first = False
            with contextlib.suppress(ResourceExistsError):
                return create()
        try:
            props = blob.get_blob_properties()
        except ResourceNotFoundError:
            return create()
        stored = dict(props.metadata)
        if newer_than and stored.get(newer_than, "") > fields.get(newer_than, ""):
            return stored, stored
        merged = {**stored, **fields}
        blob.set_blob_metadata(merged, etag=props.etag, match_condition=MatchConditions.IfNotModified)
        return merged, stored

    merged, before = read_change_write(once, f"fleet entry of {series}")
    if merged is not before:
        index_status(client, series, merged, before)
    return merged


def champion_fields(card: dict, pointer: dict) -> dict:
    """The entry fields of a champion from its card and pointer."""
    spec = card.get("spec") or {}
    return {
        "champion": pointer["version"],
        "promoted_at": pointer.get("promoted_at"),
        "model": spec.get("name"),
        "mase": (card.get("metrics") or {}).get("mase"),
        "data_through": (card.get("dataset") or {}).get("end"),
        "fallback": "true" if card.get("fallback") or spec.get("fallback") else "",
        "corrupt": "",  # a champion is published or promoted only once verified
    }


def record_champion(client: ContainerClient, card: dict, pointer: dict, *, first: bool = False) -> None:
    """Record the series' new champion (`first`: it had none before); a failure is logged, never raised
    (the index is a view)."""
    try:
        record(client, pointer["series"], champion_fields(card, pointer), newer_than="promoted_at", new=first)
    except Exception:
        log.exception("could not record the champion of %s in the fleet index", pointer.get("series"))


def record_check(client: ContainerClient, report: dict) -> None:
    """Record a stored monitor report's status; a failure is logged, never raised."""
    try:
        fields = {"status": report.get("status"), "checked_at": report.get("checked_at")}
        record(client, report["series"], fields, newer_than="checked_at")
    except Exception:
        log.exception("could not record the check of %s in the fleet index", report.get("series"))


@dataclass(frozen=True)
class Entry:
    """One series as the fleet shows it."""

    series: str
    champion: str | None
    model: str | None
    mase: float | None
    data_through: str | None
    status: str
    checked_at: str | None
    fallback: bool
    corrupt: str | None

    @classmethod
    def from_metadata(cls, series: str, meta: dict) -> Entry:
        def get(key):
            return meta.get(key) or None

        mase = get("mase")
        return cls(
            series=series,
            champion=get("champion"),
            model=get("model"),
            mase=float(mase) if mase else None,
            data_through=get("data_through"),
            status=get("status") or "not-checked",
            checked_at=get("checked_at"),
            fallback=meta.get("fallback") == "true",
            corrupt=get("corrupt"),
        )

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def read_entry(client: ContainerClient, series: str) -> Entry | None:
    try:
        props = client.get_blob_client(entry_name(series)).get_blob_properties()
    except ResourceNotFoundError:
        return None
    return Entry.from_metadata(series, props.metadata)


def _encode_cursor(marker: str | None, skip: int, size: int) -> str:
    raw = json.dumps({"m": marker, "s": skip, "p": size}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str | None, int, int]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        marker, skip, size = doc["m"], doc["s"], doc["p"]
        if not (marker is None or isinstance(marker, str)) or not isinstance(skip, int) or not isinstance(size, int):
            raise TypeError
        if not (0 <= skip < size <= MAX_PAGE):
            raise ValueError
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise BadParameter("cursor", "is not a cursor this API returned") from None
    return marker, skip, size


def list_page(
    client: ContainerClient, *, limit: int, cursor: str | None = None, prefix: str = "", status: str | None = None
) -> tuple[list[Entry], str | None]:
    """One page of the fleet in series order, and the cursor of the next page (None at the end).

    A page is one list call of `limit` entries: of the entries, or with a status filter of that status'
    index, whose blobs carry the same metadata.
    """
    marker, skip, size = _decode_cursor(cursor) if cursor else (None, 0, limit)
    base = PREFIX if status is None else f"{STATUS_PREFIX}{status}/"
    pages = client.list_blobs(name_starts_with=base + prefix, include=["metadata"], results_per_page=size).by_page(
        continuation_token=marker
    )
    try:
        page = list(next(pages))
    except StopIteration:
        return [], None
    following = pages.continuation_token
    found = [Entry.from_metadata(blob.name[len(base) :], blob.metadata or {}) for blob in page[skip : skip + limit]]
    if skip + limit < len(page):
        return found, _encode_cursor(marker, skip + limit, size)
    return found, _encode_cursor(following, 0, size) if following else None


def _summary_of(entries: list[Entry], computed_at: datetime) -> dict:
    by_status = dict.fromkeys(STATUSES, 0)
    champions = fallback = corrupt = 0
    last_check = None
    for entry in entries:
        by_status[entry.status] = by_status.get(entry.status, 0) + 1
        champions += entry.champion is not None
        fallback += entry.fallback
        corrupt += entry.corrupt is not None
        if entry.checked_at and (last_check is None or entry.checked_at > last_check):
            last_check = entry.checked_at
    alerting = sorted(
        (e for e in entries if e.status in ALERTING), key=lambda e: (e.checked_at or "", e.series), reverse=True
    )
    worst = sorted((e for e in entries if e.mase is not None), key=lambda e: (-e.mase, e.series))
    return {
        "computed_at": computed_at.isoformat(timespec="seconds"),
        "counts": {
            "series": len(entries),
            "champions": champions,
            "fallback": fallback,
            "corrupt": corrupt,
            "by_status": by_status,
        },
        "last_check": last_check,
        "alerting": [e.as_dict() for e in alerting[:TOP]],
        "worst_mase": [e.as_dict() for e in worst[:TOP]],
        "corrupt": [e.as_dict() for e in entries if e.corrupt is not None][:TOP],
    }


def count_metadata(summary: dict) -> dict[str, str]:
    """The summary's counts as container metadata (flat ASCII strings)."""
    counts = summary["counts"]
    meta = {f"{COUNT_PREFIX}{k}": str(v) for k, v in counts.items() if k != "by_status"}
    meta.update(
        {
            f"{COUNT_PREFIX}status_{k.replace('+', '_').replace('-', '_')}": str(v)
            for k, v in counts["by_status"].items()
        }
    )
    meta[f"{COUNT_PREFIX}computed_at"] = summary["computed_at"]
    meta[f"{COUNT_PREFIX}last_check"] = summary["last_check"] or ""
    return meta


def counts_from_metadata(meta: dict) -> tuple[dict | None, str | None, str | None]:
    """(counts, computed_at, last_check) from the monitoring container's metadata; counts None if never summarized."""
    computed_at = meta.get(f"{COUNT_PREFIX}computed_at")
    if not computed_at:
        return None, None, None
    counts: dict = {"by_status": {}}
    for key in ("series", "champions", "fallback", "corrupt"):
        counts[key] = int(meta.get(f"{COUNT_PREFIX}{key}", "0"))
    for status in STATUSES:
        counts["by_status"][status] = int(
            meta.get(f"{COUNT_PREFIX}status_{status.replace('+', '_').replace('-', '_')}", "0")
        )
    return counts, computed_at, meta.get(f"{COUNT_PREFIX}last_check") or None


def listing(client: ContainerClient, prefix: str) -> dict[str, dict]:
    blobs = client.list_blobs(name_starts_with=prefix, include=["metadata"], results_per_page=5000)
    return {b.name[len(prefix) :]: _filled(b.metadata or {}) for b in blobs}


def repair_index(client: ContainerClient, entries: dict[str, dict], indexed: dict[str, dict] | None = None) -> int:
    """Make the status index match `entries` (series -> metadata); returns the index blobs written or removed.

    Concurrent writes of one series can leave its index blob under an old status or with old fields;
    this also builds the index of entries written before it existed. `indexed` is the index as listed
    before `entries` were (listed now when None): an entry is written before its index copy, so every
    copy in an earlier listing has its entry in the later one, and a series recorded between the two
    listings never loses its copy.
    """
    indexed = listing(client, STATUS_PREFIX) if indexed is None else indexed
    wanted = {f"{status_of(meta)}/{series}": meta for series, meta in entries.items()}
    changes = 0
    for name, meta in wanted.items():
        if indexed.get(name) != meta:
            client.upload_blob(f"{STATUS_PREFIX}{name}", b"", metadata=meta, overwrite=True)
            changes += 1
    for name in indexed.keys() - wanted.keys():
        with contextlib.suppress(ResourceNotFoundError):
            client.delete_blob(f"{STATUS_PREFIX}{name}")
        changes += 1
    if changes:
        log.warning("fleet status index: %d blob(s) repaired", changes)
    return changes


def summarize(client: ContainerClient, now: datetime | None = None, *, repair: bool = False) -> dict:
    """Count the whole fleet (one list call per 5,000 series) and store the summary and its counts.

    With `repair` (the `fleet_summary` timer, not the HTTP path, whose requests must stay short) it also
    makes the status index match the entries.
    """
    indexed = listing(client, STATUS_PREFIX) if repair else None  # the index first: see repair_index
    listed = listing(client, PREFIX)
    entries = [Entry.from_metadata(series, meta) for series, meta in listed.items()]
    if repair:
        repair_index(client, listed, indexed)
    summary = _summary_of(entries, now or datetime.now(UTC))
    write_json(client, SUMMARY, summary)
    client.set_container_metadata(count_metadata(summary))
    log.info("fleet summary: %d series, %s", len(entries), summary["counts"]["by_status"])
    return summary


def read_summary(client: ContainerClient, max_age_seconds: float = SUMMARY_MAX_AGE_SECONDS) -> dict:
    """The stored summary, recomputed first when it is missing or older than `max_age_seconds`."""
    summary, _ = read_json(client, SUMMARY)
    if summary is not None:
        age = (datetime.now(UTC) - datetime.fromisoformat(summary["computed_at"])).total_seconds()
        if age <= max_age_seconds:
            return summary
    return summarize(client)


def rebuild(models: ContainerClient, monitoring: ContainerClient, series: list[str]) -> int:
    """Write the entries of `series` from the registry and the latest reports (one series at a time).

    For an estate that existed before the index, or after champions moved outside the retrain path
    (`forecastops models promote`); costs three reads per series. Returns the number of entries written.
    """
    from shared.monitoring.store import read_latest
    from shared.registry import read_card, read_champion

    written = 0
    for name in series:
        pointer, _ = read_champion(models, name)
        if pointer is not None:
            card = read_card(models, name, pointer["version"])
            record(monitoring, name, champion_fields(card, pointer))
            written += 1
        report = read_latest(monitoring, name)
        if report is not None:
            record(monitoring, name, {"status": report.get("status"), "checked_at": report.get("checked_at")})
    return written
