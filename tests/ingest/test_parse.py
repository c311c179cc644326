"""The upload contract, one rule at a time, on small files in tests/data."""

from datetime import date
from pathlib import Path

import pytest

from shared.errors import UploadRejected
from shared.ingest.parse import parse_upload
from shared.ingest.rules import UploadRules

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


def test_daily_total_that_overflows_is_rejected_with_its_lines():
    error = rejected((DATA / "overflow_total.csv").read_bytes())
    assert [(p["line"], p["value"]) for p in error.problems] == [(3, "inf")]
    assert error.problems[0]["reason"] == "not a finite daily total for total on 2014-01-11 (lines 3, 4)"


@pytest.mark.parametrize(
    "text",
    ["nan", "inf", "-Infinity", "1_000", "١٢٣", "0x10", "1e400", "12.5.1"],
)
def test_values_are_plain_finite_decimal_numbers(text):
    error = rejected(f"date,value\n2014-06-01,{text}\n".encode())
    assert error.problems[0]["line"] == 2 and error.problems[0]["reason"] in ("not a number", "not a finite number")


def test_date_before_the_earliest_date_is_rejected_with_its_line():
    error = rejected((DATA / "implausible_date.csv").read_bytes())
    assert [(p["line"], p["value"]) for p in error.problems] == [(4, "0014-03-15")]
    assert "before the earliest accepted date 2000-01-01 (UPLOAD_EARLIEST_DATE)" in error.problems[0]["reason"]
    assert "1900-01-01" in str(rejected(b"date,value\n1900-01-01,5\n").problems)
    assert rejected("date,value\n٢٠١٤-01-01,5\n".encode()).problems[0]["reason"].startswith("not an ISO 8601")


def test_the_date_rule_is_configurable():
    rules = UploadRules(earliest_date=date(1850, 1, 1), max_future_days=30)
    parsed = parse_upload(b"date,value\n1900-01-01,5\n2030-01-20,6\n", rules=rules, today=date(2030, 1, 1))
    assert parsed.daily == {"total": {date(1900, 1, 1): 5.0, date(2030, 1, 20): 6.0}}
    error = rejected(b"date,value\n2030-02-01,5\n", rules=rules, today=date(2030, 1, 1))
    assert "more than 30 day(s) after today" in error.problems[0]["reason"]


def test_a_file_may_not_reach_far_before_a_series_known_range():
    known = {"store-1": date(2014, 1, 1)}
    body = b"series_id,date,value\nstore-1,2013-01-01,5\nstore-1,2012-12-30,5\nstore-2,2001-01-01,1\n"
    error = rejected(body, known_start=known)
    assert [p["line"] for p in error.problems] == [3]
    assert error.problems[0]["reason"] == (
        "367 days before the first date of series store-1 (2014-01-01); at most 366 (UPLOAD_MAX_DAYS_BEFORE_SERIES)"
    )
    wider = UploadRules(max_days_before_series=400)
    assert len(parse_upload(body, known_start=known, rules=wider).daily["store-1"]) == 2


def test_an_empty_series_id_cell_is_an_error_for_its_line():
    error = rejected((DATA / "blank_series_id.csv").read_bytes(), default_series="total")
    assert [(p["line"], p["reason"]) for p in error.problems] == [(3, "empty series_id"), (4, "empty series_id")]
    assert error.problems[0]["column"] == "series_id"
