"""Parse an uploaded CSV into daily long-format rows, or reject it whole with every reason found.

Rules (the upload contract; README "Upload rules" states them for users):
- Encoding: UTF-8 with or without BOM, or UTF-16 with BOM; anything else is rejected with the
  byte offset of the first undecodable byte.
- Delimiter: comma, semicolon, tab or pipe, detected from the header line. With semicolons a
  decimal comma (``1234,56``) is accepted.
- Columns: a date column, a value column and optionally ``series_id``; names are matched without
  case, spaces or underscores. Missing or ambiguous columns reject the file.
- Dates: ISO 8601 (a time of day is allowed and dropped), plausible by `UploadRules`: not before
  the earliest date, not more than `max_days_before_series` days before the first date already
  known for the series, not more than `max_future_days` after today (UTC). Values: finite numbers;
  an empty or textual value rejects the file.
- With a series_id column every row names its series: an empty or blank cell is an error.
- Several rows on one (series, date) are transactions and are summed (`shared.longformat`, "sum").
  Individual rows may be negative (returns) but a negative daily total is rejected, and so is a
  total that is not finite (rows that overflow when summed).
- Gaps are kept as gaps: no row is invented at ingestion.
- An empty file, a header without rows, or a file over the size limit is rejected.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.errors import UploadRejected
from shared.ingest.rules import UploadRules
from shared.longformat import LongRows
from shared.series_id import SERIES_ID_RULE, is_series_id

DATE_COLUMNS = ("date", "ds", "transactiondate", "orderdate", "day", "timestamp", "salesdate")
VALUE_COLUMNS = ("value", "y", "amount", "paidamount", "sales", "revenue", "totaldue", "total")
SERIES_COLUMNS = ("seriesid", "series")
DELIMITERS = (",", ";", "\t", "|")
MAX_PROBLEMS = 50
_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$", re.ASCII
)
# A plain decimal number in ASCII digits (float() alone also takes '1_000', other scripts' digits, 'nan').
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)


@dataclass(frozen=True)
class ParsedUpload:
    """A valid upload: daily totals per series, plus what was seen on the way."""

    daily: dict[str, dict[date, float]]
    rows: int
    delimiter: str
    encoding: str
    columns: dict[str, str]

    @property
    def series(self) -> list[str]:
        return sorted(self.daily)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        raise UploadRejected(
            "file is not UTF-8 or UTF-16 text",
            [{"line": None, "column": None, "reason": f"undecodable byte at offset {exc.start}; save as UTF-8"}],
        ) from exc


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().lower())


def _pick(header: list[str], candidates: tuple[str, ...], role: str, required: bool) -> int | None:
    found = [i for i, name in enumerate(header) if _normalise(name) in candidates]
    if len(found) > 1:
        names = ", ".join(header[i] for i in found)
        raise UploadRejected(
            f"ambiguous {role} column",
            [{"line": 1, "column": names, "reason": f"several columns could be the {role}: {names}"}],
        )
    if not found:
        if not required:
            return None
        raise UploadRejected(
            f"missing {role} column",
            [
                {
                    "line": 1,
                    "column": None,
                    "reason": f"no {role} column; expected one of {', '.join(candidates)}; "
                    f"found {', '.join(header) or 'nothing'}",
                }
            ],
        )
    return found[0]


def _parse_date(text: str) -> date:
    match = _ISO_DATE.match(text.strip())
    if not match:
        raise ValueError("not an ISO 8601 date (YYYY-MM-DD)")
    year, month, day = (int(g) for g in match.groups())
    return date(year, month, day)


def _parse_value(text: str, decimal_comma: bool) -> float:
    raw = text.strip()
    if not raw:
        raise ValueError("missing value")
    if decimal_comma and "," in raw and "." not in raw:
        raw = raw.replace(",", ".")
    if not _NUMBER.match(raw):
        raise ValueError("not a number")
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


class _DateRule:
    """Parses date cells (each distinct text once) and applies the plausibility rule per series."""

    def __init__(self, rules: UploadRules, today: date, known_start: Mapping[str, date]) -> None:
        self.rules = rules
        self.latest = today + timedelta(days=rules.max_future_days)
        self.known_start = known_start
        self._cache: dict[str, date | str] = {}

    def parse(self, text: str) -> date:
        found = self._cache.get(text)
        if found is None:
            try:
                found = _parse_date(text)
                if found < self.rules.earliest_date:
                    earliest = self.rules.earliest_date.isoformat()
                    found = f"before the earliest accepted date {earliest} (UPLOAD_EARLIEST_DATE)"
                elif found > self.latest:
                    found = (
                        f"date is in the future: more than {self.rules.max_future_days} day(s) after today "
                        "(UPLOAD_MAX_FUTURE_DAYS)"
                    )
            except ValueError as exc:
                found = str(exc)
            self._cache[text] = found
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def check_series(self, series: str, day: date) -> None:
        start = self.known_start.get(series)
        if start is not None and (start - day).days > self.rules.max_days_before_series:
            raise ValueError(
                f"{(start - day).days} days before the first date of series {series} ({start.isoformat()}); "
                f"at most {self.rules.max_days_before_series} (UPLOAD_MAX_DAYS_BEFORE_SERIES)"
            )


def _lines_of(reader, keys: set[tuple[str, date]], columns: tuple[int, int | None], width: int, parse_day, default):
    """Second pass, only for a rejected file: the line numbers of the rows of the given (series, day)s."""
    date_i, series_i = columns
    found: dict[tuple[str, date], list[int]] = {key: [] for key in keys}
    for line_no, row in enumerate(reader, start=2):
        if len(row) != width:
            continue
        try:
            key = ((row[series_i].strip() if series_i is not None else default), parse_day(row[date_i]))
        except (ValueError, IndexError):
            continue
        if key in found:
            found[key].append(line_no)
    return found


def parse_upload(
    data: bytes,
    *,
    default_series: str = "total",
    max_bytes: int | None = None,
    today: date | None = None,
    rules: UploadRules | None = None,
    known_start: Mapping[str, date] | None = None,
) -> ParsedUpload:
    """Parse and validate one uploaded file; raise UploadRejected listing every problem found.

    `known_start` maps a series to the first date already curated for it (the plausibility rule
    bounds how far before it a file may reach).
    """
    rules = rules or UploadRules()
    if max_bytes is not None:
        rules = UploadRules(max_bytes, rules.earliest_date, rules.max_days_before_series, rules.max_future_days)
    if len(data) > rules.max_bytes:
        raise UploadRejected(
            "file too large",
            [{"line": None, "column": None, "reason": f"{len(data)} bytes exceeds the limit of {rules.max_bytes}"}],
        )
    if not data.strip():
        raise UploadRejected("file is empty", [{"line": None, "column": None, "reason": "no content"}])
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]  # the decoders have dropped any byte order mark
    delimiter = max(DELIMITERS, key=first_line.count)
    if first_line.count(delimiter) == 0:
        raise UploadRejected(
            "no delimiter in header",
            [
                {
                    "line": 1,
                    "column": None,
                    "reason": "header has one column; expected date and value columns "
                    "separated by comma, semicolon, tab or pipe",
                }
            ],
        )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    date_i = _pick(header, DATE_COLUMNS, "date", required=True)
    value_i = _pick(header, VALUE_COLUMNS, "value", required=True)
    series_i = _pick(header, SERIES_COLUMNS, "series_id", required=False)
    dates = _DateRule(rules, today or datetime.now(UTC).date(), known_start or {})
    decimal_comma = delimiter == ";"

    problems: list[dict] = []
    rows_by_day = LongRows(duplicates="sum")  # several rows on one (series, date) are transactions
    daily: dict[str, dict[date, float]] = rows_by_day.values
    valid_series: set[str] = set()
    rows = 0
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        rows += 1
        if len(row) != len(header):
            problems.append(
                {"line": line_no, "column": None, "reason": f"{len(row)} fields where the header has {len(header)}"}
            )
            continue
        if series_i is None:
            series = default_series
        else:
            series = row[series_i].strip()
            if not series:
                problems.append(
                    {"line": line_no, "column": header[series_i], "value": row[series_i], "reason": "empty series_id"}
                )
                continue
        if series not in valid_series:
            if not is_series_id(series):
                column = header[series_i] if series_i is not None else None
                problems.append({"line": line_no, "column": column, "value": series, "reason": SERIES_ID_RULE})
                continue
            valid_series.add(series)
        try:
            day = dates.parse(row[date_i])
            dates.check_series(series, day)
        except ValueError as exc:
            problems.append({"line": line_no, "column": header[date_i], "value": row[date_i], "reason": str(exc)})
            continue
        try:
            value = _parse_value(row[value_i], decimal_comma)
        except ValueError as exc:
            problems.append({"line": line_no, "column": header[value_i], "value": row[value_i], "reason": str(exc)})
            continue
        rows_by_day.add(line_no, series, day, value)

    if rows == 0:
        raise UploadRejected("file has no data rows", [{"line": None, "column": None, "reason": "header only"}])
    bad_totals = {
        (series, day): total
        for series, per_day in daily.items()
        for day, total in per_day.items()
        if total < 0 or not math.isfinite(total)
    }
    if bad_totals:
        rest = csv.reader(io.StringIO(text), delimiter=delimiter)
        next(rest)
        lines = _lines_of(rest, set(bad_totals), (date_i, series_i), len(header), dates.parse, default_series)
        for (series, day), total in bad_totals.items():
            line_nos = lines[(series, day)]
            what = "negative" if total < 0 else "not a finite"
            problems.append(
                {
                    "line": line_nos[0],
                    "column": header[value_i],
                    "value": round(total, 6) if math.isfinite(total) else str(total),
                    "reason": f"{what} daily total for {series} on {day.isoformat()} "
                    f"(lines {', '.join(map(str, line_nos[:10]))}{', ...' if len(line_nos) > 10 else ''})",
                }
            )
    if problems:
        shown = sorted(problems, key=lambda p: p["line"] or 0)[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        message = f"{len(problems)} problem(s) found" + (f"; first {len(shown)} listed" if more else "")
        raise UploadRejected(message, shown)
    columns = {"date": header[date_i], "value": header[value_i]}
    if series_i is not None:
        columns["series_id"] = header[series_i]
    return ParsedUpload(daily=daily, rows=rows, delimiter=delimiter, encoding=encoding, columns=columns)
