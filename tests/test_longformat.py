"""One long-format contract: repeated (series_id, date) rows are summed or rejected, as the caller states."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from shared.forecasting.batch import forecast_frame
from shared.ingest.parse import parse_upload
from shared.longformat import LongRows, require_columns

D1, D2 = date(2024, 1, 1), date(2024, 1, 2)


def test_sum_adds_repeated_rows_of_one_series_and_date():
    rows = LongRows(duplicates="sum")
    for row, (sid, day, value) in enumerate([("a", D1, 2.0), ("a", D1, -0.5), ("a", D2, 1.0), ("b", D1, 4.0)], 2):
        rows.add(row, sid, day, value)
    assert rows.values == {"a": {D1: 1.5, D2: 1.0}, "b": {D1: 4.0}}
    assert rows.errors == {}


def test_reject_names_the_first_repeated_row_of_each_series_and_keeps_the_first_value():
    rows = LongRows(duplicates="reject")
    data = [("a", D1, 2.0), ("b", D1, 4.0), ("a", D1, 3.0), ("a", D2, 1.0), ("a", D2, 9.0), ("b", D2, 5.0)]
    for row, (sid, day, value) in enumerate(data, 1):
        rows.add(row, sid, day, value)
    assert rows.errors == {"a": "row 3: duplicate date 2024-01-01"}
    assert rows.values["a"] == {D1: 2.0, D2: 1.0} and rows.values["b"] == {D1: 4.0, D2: 5.0}


def test_timestamps_are_reported_as_dates_and_negative_zero_as_zero():
    rows = LongRows(duplicates="reject")
    rows.add(1, "a", pd.Timestamp("2024-03-05"), -0.0)
    rows.add(2, "a", pd.Timestamp("2024-03-05"), 1.0)
    assert rows.errors == {"a": "row 2: duplicate date 2024-03-05"}
    assert str(rows.values["a"][pd.Timestamp("2024-03-05")]) == "0.0"


def test_an_unknown_rule_and_a_missing_column_are_named():
    with pytest.raises(ValueError, match="duplicates must be one of sum, reject, got 'first'"):
        LongRows(duplicates="first")
    with pytest.raises(ValueError, match="missing column 'date': expected columns series_id, date, value"):
        require_columns(["series_id", "value"])
    require_columns(["value", "date", "series_id", "extra"])


def test_the_upload_parser_sums_and_the_batch_path_rejects_the_same_rows():
    csv = "series_id,date,value\na,2024-01-01,2\na,2024-01-01,3\na,2024-01-02,1\n"
    parsed = parse_upload(csv.encode(), today=date(2024, 6, 1))
    assert parsed.daily == {"a": {D1: 5.0, D2: 1.0}}
    frame = pd.DataFrame({"series_id": ["a", "a", "a"], "date": ["2024-01-01", "2024-01-01", "2024-01-02"]})
    frame["value"] = [2.0, 3.0, 1.0]
    out, report = forecast_frame(frame, horizon=1, jobs=1, progress=False)
    assert report["skipped"] == [{"series_id": "a", "error": "row 2: duplicate date 2024-01-01"}]
    assert out.empty
