"""JSON schemas of the API's responses (OpenAPI 3.0 components), declared once next to the code."""

from __future__ import annotations

DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
NUMBER = {"type": "number"}
STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NULLABLE_STRING = {"type": "string", "nullable": True}
NULLABLE_NUMBER = {"type": "number", "nullable": True}
NULLABLE_INTEGER = {"type": "integer", "nullable": True}
# A series' status in the fleet: the monitor's latest report status, or not-checked before the first one.
FLEET_STATUSES = ("ok", "drift", "decay", "drift+decay", "not-evaluated", "error", "not-checked")
# Interval levels of every stored forecast path (shared.training writes them; the monitor scores actuals under them).
STORED_LEVELS = (50, 80, 90, 95, 99)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(name: str) -> dict:
    """A reference that may also be null (OpenAPI 3.0 ignores keywords beside a bare $ref)."""
    return {"allOf": [ref(name)], "nullable": True}


def obj(properties: dict, required: list[str] | None = None, extra: bool = False) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": extra,
    }


SCHEMAS: dict[str, dict] = {
    "Error": obj({"error": STRING, "detail": STRING}),
    "ForecastPoint": obj({"date": DATE, "forecast": NUMBER, "lower": NUMBER, "upper": NUMBER}),
    "Forecast": obj(
        {
            "series": STRING,
            "model_version": STRING,
            "trained_through": DATE,
            "generated_at": DATE_TIME,
            "level": NUMBER,
            "points": {"type": "array", "items": ref("ForecastPoint")},
        }
    ),
    "HistoryEntry": obj({"version": STRING, "promoted_at": DATE_TIME, "reason": STRING}),
    "ChampionPointer": obj(
        {
            "series": STRING,
            "version": STRING,
            "promoted_at": DATE_TIME,
            "reason": STRING,
            "history": {"type": "array", "items": ref("HistoryEntry")},
        }
    ),
    "ModelVersion": obj(
        {
            "version": STRING,
            "created_at": DATE_TIME,
            "champion": {"type": "boolean"},
            "model": {"type": "string", "nullable": True},
            "spec": {"type": "object"},
            "dataset": {"type": "object"},
            "metrics": {"type": "object", "nullable": True},
            "decision": {"type": "object"},
        }
    ),
    "Models": obj(
        {
            "series": STRING,
            "champion": {"type": "string", "nullable": True},
            "champion_history": {"type": "array", "items": ref("HistoryEntry")},
            "versions": {"type": "array", "items": ref("ModelVersion")},
        }
    ),
    "FleetCounts": obj(
        {
            "series": INTEGER,
            "champions": INTEGER,
            "fallback": INTEGER,
            "corrupt": INTEGER,
            "by_status": obj({status: INTEGER for status in FLEET_STATUSES}),
        }
    ),
    "Health": obj(
        {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "storage": STRING,
            "counts": nullable("FleetCounts"),
            "counts_as_of": {**DATE_TIME, "nullable": True},
            "last_check": {**DATE_TIME, "nullable": True},
            "code_version": STRING,
        }
    ),
    "QueueState": obj(
        {"exists": {"type": "boolean"}, "depth": NULLABLE_INTEGER, "oldest_age_seconds": NULLABLE_NUMBER}
    ),
    "HealthDetail": obj(
        {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "storage": STRING,
            "problems": {"type": "array", "items": STRING},
            "containers": {"type": "object", "additionalProperties": {"type": "string", "enum": ["ok", "missing"]}},
            "queues": {"type": "object", "additionalProperties": ref("QueueState")},
            "poison": {"type": "object", "additionalProperties": NULLABLE_INTEGER},
            "registry_lag": obj(
                {
                    "pending_retrains": NULLABLE_INTEGER,
                    "oldest_pending_retrain_seconds": NULLABLE_NUMBER,
                    "outbox_pending": NULLABLE_INTEGER,
                    "oldest_outbox_seconds": NULLABLE_NUMBER,
                }
            ),
            "monitor_lag": obj(
                {
                    "last_check": NULLABLE_STRING,
                    "seconds_since_last_check": NULLABLE_NUMBER,
                    "pending_checks": NULLABLE_INTEGER,
                    "oldest_pending_check_seconds": NULLABLE_NUMBER,
                }
            ),
            "last_monitor_run": NULLABLE_STRING,
            "corrupt_artifacts": obj({"count": NULLABLE_INTEGER, "series": {"type": "array", "items": STRING}}),
            "fleet": nullable("FleetCounts"),
            "fleet_as_of": NULLABLE_STRING,
            "code_version": STRING,
        },
        required=["status", "storage", "code_version"],
    ),
    "FleetEntry": obj(
        {
            "series": STRING,
            "champion": NULLABLE_STRING,
            "model": NULLABLE_STRING,
            "mase": NULLABLE_NUMBER,
            "data_through": NULLABLE_STRING,
            "status": {"type": "string", "enum": list(FLEET_STATUSES)},
            "checked_at": NULLABLE_STRING,
            "fallback": {"type": "boolean"},
            "corrupt": NULLABLE_STRING,
        }
    ),
    "SeriesPage": obj({"series": {"type": "array", "items": ref("FleetEntry")}, "next_cursor": NULLABLE_STRING}),
    "FleetSummary": obj(
        {
            "computed_at": DATE_TIME,
            "counts": ref("FleetCounts"),
            "last_check": NULLABLE_STRING,
            "alerting": {"type": "array", "items": ref("FleetEntry")},
            "worst_mase": {"type": "array", "items": ref("FleetEntry")},
            "corrupt": {"type": "array", "items": ref("FleetEntry")},
        }
    ),
    "SeriesDetail": obj(
        {
            "series": STRING,
            "now": DATE_TIME,
            "last_date": NULLABLE_STRING,
            "history": {"type": "array", "items": obj({"date": DATE, "value": NUMBER})},
            "forecast": {"type": "object", "nullable": True},
            "versions": {"type": "array", "items": ref("ModelVersion")},
            "drift": nullable("DriftReport"),
        }
    ),
    "DriftReport": obj(
        {
            "schema_version": {"type": "integer"},
            "series": STRING,
            "run_id": STRING,
            "checked_at": DATE_TIME,
            "status": {"type": "string", "enum": ["ok", "drift", "decay", "drift+decay", "not-evaluated", "error"]},
            "reasons": {"type": "array", "items": STRING},
        },
        extra=True,
    ),
    "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
}
