"""The gap-fill bound of training and the dedupe key, as pure functions."""

import logging
from datetime import date, timedelta

from shared.ingest.rules import MAX_TRAINING_FILL, UploadRules, dedupe_key
from shared.training import training_series

DAILY = {date(2014, 1, 1) + timedelta(days=i): float(i % 7 + 1) for i in range(200) if i % 10}


def test_training_fills_small_gaps_as_before():
    y, filled = training_series(DAILY)
    assert len(y) == 199 and filled == 19
    assert y.index[0].date() == date(2014, 1, 2)


def test_one_stray_old_date_does_not_make_training_invent_centuries(caplog):
    days = {**DAILY, date(14, 3, 15): 5.0, date(2012, 6, 1): 3.0}
    with caplog.at_level(logging.WARNING):
        y, filled = training_series(days)
    assert y.index[0].date() == date(2014, 1, 2) and len(y) == 199
    assert filled == 19 <= MAX_TRAINING_FILL
    assert "dropping 2 older observation(s)" in caplog.text


def test_the_bound_keeps_as_much_history_as_it_allows():
    days = {**DAILY, date(2013, 6, 1): 2.0}  # 213 missing days before 2014-01-02: within the bound
    y, filled = training_series(days)
    assert y.index[0].date() == date(2013, 6, 1) and filled == 19 + 214
    days[date(2012, 1, 1)] = 1.0  # now 731 more: the 2012 point is left out, 2013-06-01 kept
    y, filled = training_series(days)
    assert y.index[0].date() == date(2013, 6, 1) and filled == 19 + 214


def test_dedupe_key_changes_with_bytes_series_and_rules():
    base = dedupe_key("a" * 64, "total", UploadRules())
    assert base == dedupe_key("a" * 64, "total", UploadRules())
    assert base != dedupe_key("b" * 64, "total", UploadRules())
    assert base != dedupe_key("a" * 64, "store-1", UploadRules())
    assert base != dedupe_key("a" * 64, "total", UploadRules(earliest_date=date(1990, 1, 1)))
    assert base != dedupe_key("a" * 64, "total", UploadRules(max_bytes=10))
