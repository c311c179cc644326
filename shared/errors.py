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


class NoModelYet(ForecastOpsError):
    """The series exists but no model has been promoted for it yet."""


class ConcurrencyConflict(ForecastOpsError):
    """An ETag-guarded write kept losing the race after every retry."""


class ConfigurationError(ForecastOpsError):
    """The app, host.json or the app settings cannot be used as they are; the message says why."""
