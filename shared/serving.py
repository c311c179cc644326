"""Serve forecasts from the champion's stored forecast path; no statsmodels or pandas on this path."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from statistics import NormalDist
from typing import NoReturn

from shared.errors import BadParameter, NoIntactModel, NoModelYet, SeriesNotFound, StorageUnavailable
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Storage time one forecast request may spend revalidating its champion (pointer, card, forecast);
# past it the cached champion is served marked stale, or 503 without one (README "HTTP API").
REVALIDATE_SECONDS = 1.5


@dataclass(frozen=True)
class Champion:
    """The champion of one series as served: pointer ETag, served version and its verified stored forecast.

    `version` is the version served; it differs from `pointer_version` when the pointer's champion
    failed verification and an earlier champion is served (`degraded` says why). `stale` marks a
    champion served from the cache because storage did not answer.
    """

    series: str
    version: str
    etag: str
    forecast: dict
    promoted_at: str
    pointer_version: str = ""
    degraded: str | None = None
    stale: bool = False


def forecast_headers(champion: Champion) -> dict[str, str]:
    """Response headers that tell a client it got a stale or a fallback forecast (none when all is well)."""
    headers = {}
    if champion.stale:
        headers["X-Forecast-Stale"] = "storage unreachable; cached champion served"
        headers["Warning"] = '110 - "Response is Stale"'
    if champion.degraded:
        headers["X-Forecast-Degraded"] = f"champion {champion.pointer_version} failed verification"
    return headers


class ChampionCache:
    """Per-series champion cache, revalidated against the pointer's ETag every few seconds.

    Storage calls run on bounded clients within REVALIDATE_SECONDS. When storage does not answer,
    the cached champion is served with `stale` set, and for `champion_cache_seconds` no request
    waits on storage again (a cold series fails at once with StorageUnavailable).
    """

    def __init__(self, settings: Settings | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock  # seconds, monotonic; a test passes its own to step through the cache period
        self._entries: dict[str, tuple[float, Champion]] = {}
        self._unservable: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._down_until = 0.0

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    def _models(self):
        from shared.storage import bounded_container

        return bounded_container(self.settings.models_container, self.settings)

    def get(self, series: str) -> Champion:
        from azure.core.exceptions import AzureError

        now = self._clock()
        entry = self._entries.get(series)
        if entry and now - entry[0] < self.settings.champion_cache_seconds:
            return entry[1]
        cached = entry[1] if entry else None
        refused = self._unservable.get(series)
        if refused and now - refused[0] < self.settings.champion_cache_seconds:
            raise NoIntactModel(refused[1])  # verified moments ago: no need to read every version again
        if now < self._down_until:
            return self._stale(series, cached, "storage failed moments ago")
        try:
            champion = self._revalidate(series, cached)
        except NoIntactModel as exc:
            self._unservable[series] = (self._clock(), str(exc))
            raise
        except (AzureError, StorageUnavailable) as exc:
            self._down_until = self._clock() + self.settings.champion_cache_seconds
            log.warning("champion of %s could not be revalidated: %s: %s", series, type(exc).__name__, exc)
            champion = self._stale(series, cached, f"{type(exc).__name__}")
        with self._lock:
            self._entries[series] = (self._clock(), champion)
            self._unservable.pop(series, None)
        return champion

    @staticmethod
    def _stale(series: str, cached: Champion | None, why: str) -> Champion:
        if cached is None:
            raise StorageUnavailable(f"storage is unreachable ({why}) and no forecast of {series} is cached; retry")
        return cached if cached.stale else replace(cached, stale=True)

    def _revalidate(self, series: str, cached: Champion | None) -> Champion:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError, ResourceNotModifiedError

        from shared.errors import CorruptPointer
        from shared.registry import first_intact, parse_pointer, pointer_name, read_card, read_forecast
        from shared.storage import Deadline

        deadline = Deadline(REVALIDATE_SECONDS)
        client = self._models()
        blob = client.get_blob_client(pointer_name(series))
        try:
            if cached is not None:
                condition = {"etag": cached.etag, "match_condition": MatchConditions.IfModified}
                downloader = blob.download_blob(**condition, **deadline.options())
            else:
                downloader = blob.download_blob(**deadline.options())
            data, etag = downloader.readall(), downloader.properties.etag
        except (ResourceNotModifiedError, ResourceModifiedError):
            # The pointer still has the cached ETag: Azure answers 304, Azurite 412 (condition not met).
            return replace(cached, stale=False)
        except ResourceNotFoundError:
            raise_missing(self.settings, series)
        try:
            pointer = parse_pointer(series, data, etag)
        except CorruptPointer as exc:
            self._report_corrupt(client, series, [exc], None, deadline)
            raise NoIntactModel(f"{exc}; the next retrain or a promotion replaces it") from exc
        if cached is not None and cached.pointer_version == pointer["version"] and not cached.degraded:
            # The pointer was rewritten for the same version (a re-promotion).
            return replace(cached, etag=etag, promoted_at=pointer["promoted_at"], stale=False)

        def intact(version: str) -> dict:
            card = read_card(client, series, version, **deadline.options())
            return read_forecast(client, series, version, card, **deadline.options())

        version, forecast, failures = first_intact(pointer, intact)
        if version is None:
            self._report_corrupt(client, series, failures, None, deadline)
            raise NoIntactModel(
                f"no intact model for series {series}: {failures[0]}; the next retrain publishes a clean version"
            )
        degraded = None
        if failures:
            self._report_corrupt(client, series, failures, version, deadline)
            degraded = str(failures[0])
        elif cached is not None and cached.degraded:
            self._clear_corrupt(client, series, deadline)
        return Champion(series, version, etag, forecast, pointer["promoted_at"], pointer["version"], degraded)

    def _report_corrupt(self, client, series: str, failures: list, served: str | None, deadline) -> None:
        """Mark the series corrupt for health and the fleet index; best effort, the answer does not wait on it."""
        from azure.core.exceptions import AzureError

        from shared.registry import mark_corrupt

        try:
            mark_corrupt(client, series, failures, served, **deadline.options())
        except (AzureError, StorageUnavailable):
            log.exception("could not record the corruption of %s", series)
        self._index_corrupt(series, failures[0].artifact)

    def _clear_corrupt(self, client, series: str, deadline) -> None:
        from azure.core.exceptions import AzureError

        from shared.registry import clear_corrupt

        try:
            clear_corrupt(client, series, **deadline.options())
        except (AzureError, StorageUnavailable):
            log.exception("could not clear the corruption marker of %s", series)
        self._index_corrupt(series, "")

    def _index_corrupt(self, series: str, artifact: str) -> None:
        """Show (or clear, with "") the corrupt artifact in the series' fleet index entry; never raises."""
        from shared.fleet import record
        from shared.storage import bounded_container

        try:
            record(bounded_container(self.settings.monitoring_container, self.settings), series, {"corrupt": artifact})
        except Exception:
            log.exception("could not record the corruption of %s in the fleet index", series)


def degraded_series(settings: Settings | None = None) -> list[str]:
    """Series whose champion failed verification and is not replaced yet: one bounded listing, for health."""
    from shared.registry import corrupt_series
    from shared.storage import bounded_container

    settings = settings or get_settings()
    return corrupt_series(bounded_container(settings.models_container, settings))


def raise_missing(settings: Settings, series: str) -> NoReturn:
    """For a series without a champion: NoModelYet if it has data, SeriesNotFound if it was never ingested.

    One read of the series' own shard, whatever the size of the estate (`GET /api/series` lists the series).
    """
    from shared.ingest.curated import read_series
    from shared.storage import bounded_container

    if read_series(bounded_container(settings.curated_container, settings), series) is not None:
        raise NoModelYet(f"series {series} has data but no model yet; the first retrain is queued or running")
    raise SeriesNotFound(f"unknown series {series}")


def _interval_source(levels: list[int], level: float) -> tuple[int, float]:
    """The stored level whose bounds serve `level`, and the factor scaling them (1 for a stored level)."""
    if level in levels:
        return int(level), 1.0
    nearest = min(levels, key=lambda stored: abs(stored - level))
    return nearest, NormalDist().inv_cdf(0.5 + level / 200) / NormalDist().inv_cdf(0.5 + nearest / 200)


def build_forecast(champion: Champion, horizon: int, level: float) -> dict:
    """The `GET /api/forecast` response (README "HTTP API") from a champion's stored path."""
    doc = champion.forecast
    if not 1 <= horizon <= doc["max_horizon"]:
        raise BadParameter("horizon", f"must be an integer from 1 to {doc['max_horizon']}, got {horizon}")
    stored, scale = _interval_source(doc["levels"], level)
    floor = doc.get("floor")
    points = []
    for point in doc["points"][:horizon]:
        mean, lower, upper = point["mean"], point[f"lower_{stored}"], point[f"upper_{stored}"]
        if scale != 1.0:  # a level between the stored ones: the nearest stored band, scaled
            lower, upper = mean - (mean - lower) * scale, mean + (upper - mean) * scale
        if floor is not None:
            lower, upper = max(lower, floor), max(upper, floor)
        if not all(map(math.isfinite, (mean, lower, upper))):  # e.g. a huge band scaled past float range
            raise NoIntactModel(f"the forecast of {champion.series} at level {level:g} is not a finite number")
        points.append({"date": point["date"], "forecast": mean, "lower": lower, "upper": upper})
    return {
        "series": champion.series,
        "model_version": champion.version,
        "trained_through": doc["trained_through"],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "level": level,
        "points": points,
    }
