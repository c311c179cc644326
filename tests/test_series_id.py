"""One series-id rule: the upload parser and the API parameter accept exactly what `is_series_id` accepts."""

import pytest

from shared.api import SERIES
from shared.errors import BadParameter
from shared.series_id import is_series_id

GOOD = ["total", "store-1", "A.b_c-9", "x" * 64, "0"]
BAD = ["", "_fleet", "-a", ".a", "x" * 65, "a b", "a/b", "ä", "a\n", "١٢", None, 7]


@pytest.mark.parametrize("value", GOOD)
def test_good_ids_pass_everywhere(value):
    assert is_series_id(value)
    assert SERIES.parse(value) == value


@pytest.mark.parametrize("value", BAD)
def test_bad_ids_fail_everywhere(value):
    assert not is_series_id(value)
    if isinstance(value, str):
        with pytest.raises(BadParameter):
            SERIES.parse(value)


def test_the_upload_parser_uses_the_same_rule():
    from shared.ingest.parse import parse_upload

    rows = "series_id,date,value\n" + "".join(
        f"{s},2024-01-0{i + 1},1\n" for i, s in enumerate(["ok-1", "_bad", "a b"])
    )
    problems = _problems(parse_upload, rows.encode())
    assert {p["value"] for p in problems} == {"_bad", "a b"}
    assert all(p["reason"].startswith("series_id must be 1-64") for p in problems)


def _problems(parse_upload, data):
    from shared.errors import UploadRejected

    try:
        parse_upload(data)
    except UploadRejected as exc:
        return exc.problems
    raise AssertionError("an upload with invalid series ids was accepted")
