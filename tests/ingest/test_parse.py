"""The upload contract, one rule at a time, on small files in tests/data."""

from datetime import date
from pathlib import Path

import pytest

from shared.errors import UploadRejected
from shared.ingest.parse import parse_upload

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "adventureworks_daily_transactions.csv"


def rejected(data: bytes, **kwargs) -> UploadRejected:
    with pytest.raises(UploadRejected) as info:
        parse_upload(data, **kwargs)
    return info.value


def test_sample_file_is_one_daily_series():
    parsed = parse_upload(SAMPLE.read_bytes())
    assert parsed.series == ["total"]
    days = parsed.daily["total"]
    assert len(days) == 305
    assert min(days) == date(2013, 7, 31) and max(days) == date(2014, 5, 31)
    assert parsed.columns == {"date": "TransactionDate", "value": "PaidAmount"}


def test_bad_values_are_all_reported_with_line_numbers():
    error = rejected((DATA / "bad_values.csv").read_bytes())
    by_line = {p["line"]: p for p in error.problems}
    assert sorted(by_line) == [3, 4, 5]
    assert "ISO 8601" in by_line[3]["reason"] and by_line[3]["column"] == "TransactionDate"
    assert by_line[4]["reason"] == "not a number" and by_line[4]["value"] == "abc"
    assert by_line[5]["reason"] == "missing value"


def test_missing_value_column_names_what_was_expected_and_found():
    error = rejected((DATA / "bad_schema.csv").read_bytes())
    assert "missing date column" in str(error)
    assert "found when, how_much" in error.problems[0]["reason"]


def test_empty_and_header_only_files_are_rejected():
    assert "empty" in str(rejected((DATA / "empty.csv").read_bytes()))
    assert "no data rows" in str(rejected((DATA / "header_only.csv").read_bytes()))


def test_semicolon_delimiter_with_decimal_comma_sums_transactions():
    parsed = parse_upload((DATA / "semicolon_decimal_comma.csv").read_bytes())
    assert parsed.delimiter == ";"
    assert parsed.daily["total"] == {date(2014, 6, 1): 1244.5, date(2014, 6, 2): 7.25}


def test_negative_rows_allowed_but_negative_daily_total_rejected():
    error = rejected((DATA / "negative_total.csv").read_bytes())
    assert len(error.problems) == 1
    assert "negative daily total for total on 2014-06-02" in error.problems[0]["reason"]


def test_bom_timestamps_and_series_column():
    parsed = parse_upload((DATA / "bom_transactions.csv").read_bytes(), default_series="total")
    assert parsed.encoding == "utf-8"
    assert parsed.daily == {
        "store-1": {date(2014, 6, 1): 15.0},
        "store-2": {date(2014, 6, 1): 3.0, date(2014, 6, 2): 4.0},
    }


def test_utf16_with_bom_is_accepted_and_latin1_is_rejected():
    text = "date,value,series_id\n2014-06-01,5,café\n"
    assert "problem" in str(rejected(text.encode("utf-16")))  # accents are not valid series ids
    parsed = parse_upload("date\tvalue\n2014-06-01\t5\n".encode("utf-16"))
    assert parsed.delimiter == "\t" and parsed.encoding == "utf-16"
    error = rejected("date,value,note\n2014-06-01,5,café\n".encode("latin-1"))
    assert "offset 32" in error.problems[0]["reason"]


def test_dates_more_than_a_day_ahead_are_rejected():
    error = rejected(b"date,value\n2030-01-03,5\n", today=date(2030, 1, 1))
    assert error.problems[0]["reason"].startswith("date is in the future: more than 1 day(s) after today")
    tomorrow = parse_upload(b"date,value\n2030-01-02,5\n", today=date(2030, 1, 1))  # time-zone slack
    assert tomorrow.daily == {"total": {date(2030, 1, 2): 5.0}}


def test_size_limit():
    error = rejected(b"date,value\n2014-06-01,5\n", max_bytes=10)
    assert "exceeds the limit of 10" in error.problems[0]["reason"]


def test_ambiguous_columns_and_ragged_rows():
    assert "ambiguous date column" in str(rejected(b"date,ds,value\n2014-06-01,2014-06-01,1\n"))
    error = rejected(b"date,value\n2014-06-01,1,extra\n")
    assert error.problems[0]["reason"] == "3 fields where the header has 2"


def test_problem_list_is_capped_but_counted():
    body = "date,value\n" + "".join(f"2014-06-01,x{i}\n" for i in range(120))
    error = rejected(body.encode())
    assert len(error.problems) == 50
    assert str(error).startswith("120 problem(s) found; first 50 listed")
