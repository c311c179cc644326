"""Property: any generated file is either accepted with finite, plausible daily totals, or rejected whole."""

import json
import math
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.errors import UploadRejected
from shared.ingest import process_upload
from shared.ingest.curated import known_starts, read_manifest, read_series
from shared.ingest.parse import parse_upload
from shared.ingest.rules import UploadRules
from shared.storage import container, queue

TODAY = date(2030, 6, 15)
RULES = UploadRules(earliest_date=date(2000, 1, 1), max_days_before_series=366, max_future_days=1)
KNOWN = {"store-1": date(2020, 1, 1)}

plausible_dates = st.dates(min_value=date(2019, 6, 1), max_value=TODAY + timedelta(days=1))
any_dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


def mostly(valid, invalid, odds: int = 12):
    """`valid` about `odds` times as often as `invalid`, so that many generated files are accepted."""
    return st.integers(0, odds).flatmap(lambda i: invalid if i == 0 else valid)


date_cells = mostly(
    st.one_of(plausible_dates.map(date.isoformat), plausible_dates.map(lambda d: f"{d.isoformat()}T12:30:00")),
    st.one_of(
        any_dates.map(date.isoformat),
        st.sampled_from(["0014-03-15", "1900-01-01", "2014-02-30", "", "yesterday", "31/12/2020"]),
    ),
)
value_cells = mostly(
    st.one_of(st.floats(min_value=0, max_value=1e6, allow_nan=False).map(repr), st.sampled_from(["1e308", "7"])),
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["-1e308", "nan", "inf", "", "abc", "1_000", "-5"]),
    ),
)
series_cells = mostly(
    st.sampled_from(["store-1", "store-2", "web.shop_3"]),
    st.sampled_from(["", "   ", "bad id", "é", "x" * 65]),
)


@st.composite
def uploads(draw):
    """(bytes, rows, has_series, delimiter): a CSV over the cells above, mostly valid."""
    has_series = draw(st.booleans())
    delimiter = draw(st.sampled_from([",", "\t", "|"]))
    rows = draw(
        st.lists(
            st.tuples(series_cells if has_series else st.just(""), date_cells, value_cells),
            min_size=0,
            max_size=10,
        )
    )
    header = (["series_id"] if has_series else []) + ["date", "value"]
    lines = [delimiter.join(header)]
    for series, day, value in rows:
        lines.append(delimiter.join(([series] if has_series else []) + [day, value]))
    return ("\n".join(lines) + "\n").encode(), rows, has_series


def _plausible(series: str, day: date) -> bool:
    start = KNOWN.get(series)
    reach_ok = start is None or (start - day).days <= RULES.max_days_before_series
    return RULES.earliest_date <= day <= TODAY + timedelta(days=RULES.max_future_days) and reach_ok


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(uploads())
def test_parser_accepts_only_finite_plausible_totals_or_rejects_the_file(upload):
    data, rows, has_series = upload
    try:
        parsed = parse_upload(data, default_series="total", today=TODAY, rules=RULES, known_start=KNOWN)
    except UploadRejected as exc:
        event("rejected")
        assert exc.problems and all(p["reason"] for p in exc.problems)
        return
    event("accepted")
    expected: dict[str, dict[date, float]] = {}
    for series, day, value in rows:
        key = (series.strip() if has_series else "") or "total"
        parsed_day = date.fromisoformat(day[:10])
        expected.setdefault(key, {})
        expected[key][parsed_day] = expected[key].get(parsed_day, 0.0) + float(value)
    assert parsed.daily == expected
    for series, days in parsed.daily.items():
        for day, total in days.items():
            assert math.isfinite(total) and total >= 0
            assert _plausible(series, day)


def _state(settings) -> dict:
    curated = container(settings.curated_container, settings)
    blobs = {b.name: b.etag for b in curated.list_blobs()}
    messages = queue(settings.retrain_queue, settings).get_queue_properties().approximate_message_count
    return {"curated": blobs, "messages": messages}


@pytest.fixture
def seeded(settings):
    """Storage with one known series, store-1 from 2020-01-01."""
    process_upload("seed.csv", b"series_id,date,value\nstore-1,2020-01-01,5\n", settings=settings)
    return settings


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(uploads())
def test_an_upload_either_lands_plausible_finite_days_or_only_adds_to_quarantine(seeded, upload):
    data, _, _ = upload
    before = _state(seeded)
    result = process_upload("generated.csv", data, settings=seeded)
    curated = container(seeded.curated_container, seeded)
    event(result.status)
    if result.status == "rejected":
        assert _state(seeded) == before
        quarantine = container(seeded.quarantine_container, seeded)
        assert quarantine.download_blob(result.quarantined_as).readall() == data
        report = json.loads(quarantine.download_blob(f"{result.quarantined_as}.error.json").readall())
        assert report["problems"] == result.problems and report["problems"]
        return
    assert result.status in ("accepted", "duplicate")
    today = date.today()
    manifest = read_manifest(curated)
    for series in result.series:
        days = read_series(curated, series).days
        assert all(math.isfinite(v) and v >= 0 for v in days.values())
        assert all(date(2000, 1, 1) <= d <= today + timedelta(days=1) for d in days)
        assert known_starts(manifest)[series] == min(days)
