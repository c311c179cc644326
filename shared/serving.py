"""Serve forecasts from the champion's stored forecast path; no statsmodels or pandas on this path."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist
from typing import NoReturn

from shared.errors import BadParameter, NoModelYet, SeriesNotFound
from shared.settings import Settings, get_settings


@dataclass(frozen=True)
class Champion:
    """The champion of one series as served: pointer ETag, version and its stored forecast."""

    series: str
    version: str
    etag: str
    forecast: dict
    promoted_at: str


class ChampionCache:
    """Per-series champion cache, revalidated against the pointer's ETag every few seconds."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._entries: dict[str, tuple[float, Champion]] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    def _models(self):
        from shared.storage import container

        return container(self.settings.models_container, self.settings)

    def get(self, series: str) -> Champion:
        now = time.monotonic()
        entry = self._entries.get(series)
        if entry and now - entry[0] < self.settings.champion_cache_seconds:
            return entry[1]
        champion = self._revalidate(series, entry[1] if entry else None)
        with self._lock:
            self._entries[series] = (time.monotonic(), champion)
        return champion

    def _revalidate(self, series: str, cached: Champion | None) -> Champion:
        import json

        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError, ResourceNotModifiedError

        from shared.registry import pointer_name, read_forecast

        blob_container = self._models()
        blob = blob_container.get_blob_client(pointer_name(series))
        try:
            if cached is not None:
                downloader = blob.download_blob(etag=cached.etag, match_condition=MatchConditions.IfModified)
            else:
                downloader = blob.download_blob()
            pointer = json.loads(downloader.readall())
            etag = downloader.properties.etag
        except (ResourceNotModifiedError, ResourceModifiedError):
            # The pointer still has the cached ETag: Azure answers 304, Azurite 412 (condition not met).
            return cached
        except ResourceNotFoundError:
            raise_missing(self.settings, series)
        if cached is not None and cached.version == pointer["version"]:
            forecast = cached.forecast  # the pointer was rewritten for the same version (a re-promotion)
        else:
            forecast = read_forecast(blob_container, series, pointer["version"])
        return Champion(series, pointer["version"], etag, forecast, pointer["promoted_at"])


def raise_missing(settings: Settings, series: str) -> NoReturn:
    """For a series without a champion: NoModelYet if it has data, SeriesNotFound if it was never ingested."""
    from shared.ingest.curated import read_manifest
    from shared.storage import container

    manifest = read_manifest(container(settings.curated_container, settings))
    if series in manifest["series"]:
        raise NoModelYet(f"series {series} has data but no model yet; the first retrain is queued or running")
    known = ", ".join(sorted(manifest["series"])) or "none yet"
    raise SeriesNotFound(f"unknown series {series}; known series: {known}")


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
        points.append({"date": point["date"], "forecast": mean, "lower": lower, "upper": upper})
    return {
        "series": champion.series,
        "model_version": champion.version,
        "trained_through": doc["trained_through"],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "level": level,
        "points": points,
    }
