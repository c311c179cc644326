"""The analyst dashboard: one self-contained HTML page (no CDN) with the data embedded as JSON."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources

HISTORY_DAYS = 120


@lru_cache(maxsize=1)
def template() -> str:
    return resources.files("shared").joinpath("dashboard.html").read_text(encoding="utf-8")


PLACEHOLDER = re.compile(r"__(TITLE|DATA)__")


def embed_json(data: dict) -> str:
    """JSON safe inside a <script> element: `<`, `>` and `&` are written as \\u escapes."""
    text = json.dumps(data, default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(title: str, data: dict) -> str:
    """The page with its title (HTML-escaped) and `data` (escaped JSON) put in, in one pass over the template.

    Substituted text is never scanned again, so a value that spells a placeholder stays text.
    """
    values = {"TITLE": html.escape(title), "DATA": embed_json(data)}
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template())


def forecast_points(forecast_doc: dict, horizon: int) -> list[dict]:
    return [
        {
            "date": p["date"],
            "forecast": p["mean"],
            "lower_80": p["lower_80"],
            "upper_80": p["upper_80"],
            "lower_95": p["lower_95"],
            "upper_95": p["upper_95"],
        }
        for p in forecast_doc["points"][:horizon]
    ]


def dashboard_data(
    *,
    series: str,
    history: dict | None,
    champion,
    versions: list[dict],
    drift: dict | None,
    horizon: int,
    fallback: dict | None = None,
) -> dict:
    """Everything the page shows, from already loaded parts (history: date → value).

    `fallback` is the champion card's cold-start note ({reason, observations, needed}); the page marks
    the forecast as a fallback when the served forecast document says it is one.
    """
    days = sorted(history or {})[-HISTORY_DAYS:]
    forecast = None
    if champion is not None:
        forecast = {
            "model_version": champion.version,
            "trained_through": champion.forecast["trained_through"],
            "points": forecast_points(champion.forecast, horizon),
            "fallback": {"reason": None, **(fallback or {})} if champion.forecast.get("fallback") else None,
        }
    return {
        "series": series,
        "now": datetime.now(UTC).isoformat(timespec="seconds"),
        "last_date": days[-1].isoformat() if days else None,
        "history": [{"date": d.isoformat(), "value": history[d]} for d in days],
        "forecast": forecast,
        "versions": versions,
        "drift": drift,
    }
