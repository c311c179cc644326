"""JSON schemas of the API's responses (OpenAPI 3.0 components), declared once next to the code."""

from __future__ import annotations

DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
NUMBER = {"type": "number"}
STRING = {"type": "string"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


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
    "Health": obj(
        {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "storage": STRING,
            "champions": {"type": "object", "additionalProperties": STRING},
            "code_version": STRING,
        },
        required=["status", "storage", "champions"],
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
