"""The long-format contract (`series_id`, `date`, `value`) shared by the upload parser and the batch path.

Both read rows of one value per series and date. They differ in one rule, stated here as an option:
several rows on one (series_id, date) are either transactions to add up (`duplicates="sum"`, uploads) or
an error of that series (`duplicates="reject"`, batch forecasting, whose input is already one value per
date). Pure Python, no pandas: the upload path stays light.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date, datetime
from typing import Literal

COLUMNS = ("series_id", "date", "value")
DUPLICATE_RULES = ("sum", "reject")
Duplicates = Literal["sum", "reject"]


def require_columns(columns: Iterable[str]) -> None:
    """ValueError naming the first missing column of COLUMNS."""
    present = set(columns)
    missing = [c for c in COLUMNS if c not in present]
    if missing:
        raise ValueError(f"missing column {missing[0]!r}: expected columns {', '.join(COLUMNS)}")


def _day(value: date) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


class LongRows:
    """Validated rows folded into values per series and date, under one duplicate rule.

    `add(row, series_id, day, value)` takes one row (`row` is how the caller numbers it in its messages).
    With "sum" repeated (series_id, day) rows add up in `values`; with "reject" the first repeat is
    recorded in `errors[series_id]` ("row N: duplicate date D") and later rows keep the first value.
    """

    def __init__(self, duplicates: Duplicates) -> None:
        if duplicates not in DUPLICATE_RULES:
            raise ValueError(f"duplicates must be one of {', '.join(DUPLICATE_RULES)}, got {duplicates!r}")
        self.duplicates = duplicates
        self.values: dict[str, dict[Hashable, float]] = {}
        self.errors: dict[str, str] = {}

    def add(self, row: int, series_id: str, day: date, value: float) -> None:
        per_day = self.values.get(series_id)
        if per_day is None:
            per_day = self.values[series_id] = {}
        if day not in per_day:
            per_day[day] = value + 0.0  # a first row of -0.0 is stored as 0.0, as a sum would be
        elif self.duplicates == "sum":
            per_day[day] += value
        elif series_id not in self.errors:
            self.errors[series_id] = f"row {row}: duplicate date {_day(day)}"
