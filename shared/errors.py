"""Domain exceptions with messages a user can act on; mapped to HTTP codes only at the API edge."""

from __future__ import annotations


class ForecastOpsError(Exception):
    """Base class of every error ForecastOps raises on purpose."""


class UploadRejected(ForecastOpsError):
    """An uploaded file broke the upload contract; `problems` lists each reason."""

    def __init__(self, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class BadParameter(ForecastOpsError):
    """A request parameter is missing or out of its allowed range."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name
        self.detail = detail


class SeriesNotFound(ForecastOpsError):
    """The requested series has never been ingested."""


class VersionNotFound(ForecastOpsError):
    """The named model version does not exist for the series."""

    title = "version not found"


class CorruptArtifact(VersionNotFound):
    """A stored version failed verification (hash, JSON, finite numbers): it is treated as absent."""

    title = "corrupt version"

    def __init__(self, series: str, version: str, artifact: str, reason: str) -> None:
        super().__init__(f"version {version} of series {series} is corrupt: {artifact} {reason}")
        self.series, self.version, self.artifact, self.reason = series, version, artifact, reason


class CorruptPointer(CorruptArtifact):
    """The champion pointer itself is unreadable; `etag` lets a new pointer replace it conditionally."""

    def __init__(self, series: str, reason: str, etag: str | None) -> None:
        super().__init__(series, "champion", "champion.json", reason)
        self.etag = etag


class UnpublishableVersion(ForecastOpsError):
    """A new version was refused before anything was written (e.g. a forecast that is not finite)."""


class NoModelYet(ForecastOpsError):
    """Nothing can be served for the series right now (HTTP 503); by default: no model promoted yet."""

    title = "no model yet"


class NoIntactModel(NoModelYet):
    """The champion and every earlier champion of the series failed verification."""

    title = "no intact model"


class StorageUnavailable(NoModelYet):
    """Storage did not answer within the serving budget and nothing is cached to serve instead."""

    title = "storage unavailable"


class ConcurrencyConflict(ForecastOpsError):
    """An ETag-guarded write kept losing the race after every retry."""


class ConfigurationError(ForecastOpsError):
    """The app, host.json or the app settings cannot be used as they are; the message says why."""
