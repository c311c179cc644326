"""The AdventureWorks sample split into the monthly files a business would upload."""

from __future__ import annotations

from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "adventureworks_daily_transactions.csv"


def monthly_files(path: Path = SAMPLE) -> list[tuple[str, bytes]]:
    """(file name, CSV bytes) per calendar month, in date order, with the original header."""
    header, *rows = path.read_text().splitlines()
    months: dict[str, list[str]] = {}
    for row in rows:
        months.setdefault(row[:7], []).append(row)
    return [
        (f"sales-{month}.csv", ("\n".join([header, *lines]) + "\n").encode()) for month, lines in sorted(months.items())
    ]
