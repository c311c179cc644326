"""Batch forecast contract: long format in and out, H rows per series, each series' own calendar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.forecasting import forecast_file, forecast_frame
from shared.forecasting.batch import OUTPUT_COLUMNS
from shared.forecasting.families import build

DATA = Path(__file__).parent / "data"


def long_frame(series: dict[str, pd.Series]) -> pd.DataFrame:
    parts = [pd.DataFrame({"series_id": sid, "date": y.index, "value": y.to_numpy()}) for sid, y in series.items()]
    return pd.concat(parts, ignore_index=True)


def wave(n: int, freq: str, start: str, m: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 10 * np.sin(2 * np.pi * t / m) if m > 1 else 0
    return pd.Series(50 + 0.2 * t + season + rng.normal(0, 1, n), index=pd.date_range(start, periods=n, freq=freq))


FIVE = {
    "daily": wave(70, "D", "2024-01-01", 7, 1),
    "weekly": wave(60, "W-SUN", "2023-01-01", 52, 2),
    "monthly": wave(48, "ME", "2020-01-31", 12, 3),
    "quarterly": wave(24, "QS", "2018-01-01", 4, 4),
    "yearly": wave(20, "YS", "2000-01-01", 1, 5),
}
NEXT = {
    "daily": ["2024-03-11", "2024-03-12", "2024-03-13"],
    "weekly": ["2024-02-25", "2024-03-03", "2024-03-10"],
    "monthly": ["2024-01-31", "2024-02-29", "2024-03-31"],
    "quarterly": ["2024-01-01", "2024-04-01", "2024-07-01"],
    "yearly": ["2020-01-01", "2021-01-01", "2022-01-01"],
}


@pytest.mark.slow
def test_contract_for_all_five_frequencies_in_parallel():
    out, report = forecast_frame(long_frame(FIVE), horizon=3, level=90, jobs=2, progress=False)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert out.groupby("series_id").size().to_dict() == dict.fromkeys(FIVE, 3)
    for sid, dates in NEXT.items():
        assert out.loc[out.series_id == sid, "date"].tolist() == dates
    assert (out["lower"] <= out["forecast"]).all() and (out["forecast"] <= out["upper"]).all()
    assert report["series"] == 5 and report["fallbacks"] == [] and sum(report["models"].values()) == 5


def test_file_round_trip_writes_h_rows_per_series(tmp_path):
    series = {"x": FIVE["yearly"], "y": FIVE["quarterly"]}
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    long_frame(series).to_csv(src, index=False)
    report = forecast_file(src, dst, horizon=4, level=95, jobs=1, progress=False)
    out = pd.read_csv(dst)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert out.groupby("series_id").size().to_dict() == {"x": 4, "y": 4}
    assert report["horizon"] == 4 and report["level"] == 95.0


def test_progress_bar_goes_to_stderr(capsys):
    forecast_frame(long_frame({"y": FIVE["yearly"]}), horizon=2, jobs=1, progress=True)
    captured = capsys.readouterr()
    assert "1/1" in captured.err and captured.out == ""


def test_gaps_are_filled_and_reported():
    y = FIVE["yearly"].drop(FIVE["yearly"].index[[5, 6, 11]])
    out, report = forecast_frame(long_frame({"g": y}), horizon=2, jobs=1, progress=False)
    assert report["filled_values"] == {"g": 3}
    assert out["date"].tolist() == ["2020-01-01", "2021-01-01"]


def test_constant_series_forecasts_the_constant():
    y = pd.Series(7.0, index=pd.date_range("2024-01-01", periods=30, freq="D"))
    out, report = forecast_frame(long_frame({"c": y}), horizon=5, jobs=1, progress=False)
    np.testing.assert_allclose(out["forecast"], 7.0, atol=1e-6)
    assert np.isfinite(out[["lower", "upper"]].to_numpy()).all()
    assert report["fallbacks"] == []


def test_a_batch_with_a_too_short_series_still_forecasts_every_other_series():
    """One series with a single observation: the others get full selection, it gets the marked fallback."""
    single = FIVE["daily"].iloc[-1:]
    df = long_frame({"daily": FIVE["daily"], "new": single, "quarterly": FIVE["quarterly"]})
    out, report = forecast_frame(df, horizon=3, jobs=1, progress=False)
    assert out.groupby("series_id").size().to_dict() == {"daily": 3, "new": 3, "quarterly": 3}
    assert report["skipped"] == [] and [c["series_id"] for c in report["cold_start"]] == ["new"]
    new = out[out.series_id == "new"]
    assert new["date"].tolist() == NEXT["daily"]  # the file's common frequency (daily) continues it
    np.testing.assert_allclose(new["forecast"], single.iloc[0])
    assert (new["lower"] < new["forecast"]).all() and (new["upper"] > new["forecast"]).all()
    full = out[out.series_id == "daily"]
    assert (
        report["models"]["fallback"] == 1
        and (full["upper"] - full["lower"]).mean() < (new["upper"] - new["lower"]).mean()
    )


def test_a_series_that_cannot_be_used_is_skipped_and_named_and_the_rest_forecast(tmp_path):
    src = tmp_path / "in.csv"
    good = long_frame({"ok": FIVE["yearly"]}).astype({"date": str, "value": str})
    src.write_text((DATA / "bad_value.csv").read_text() + good.to_csv(index=False, header=False))
    report = forecast_file(src, tmp_path / "out.csv", horizon=2, progress=False)
    out = pd.read_csv(tmp_path / "out.csv")
    assert report["skipped"] == [{"series_id": "a", "error": "row 3: value 'abc' is not a finite number"}]
    assert out.groupby("series_id").size().to_dict() == {"ok": 2}


def test_strict_fails_the_whole_batch_and_writes_nothing(tmp_path):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    good = long_frame({"ok": FIVE["yearly"]}).astype({"date": str, "value": str})
    src.write_text((DATA / "bad_value.csv").read_text() + good.to_csv(index=False, header=False))
    with pytest.raises(ValueError, match=r"1 series cannot be forecast \(strict\): series 'a': row 3: value 'abc'"):
        forecast_file(src, dst, horizon=2, progress=False, strict=True)
    assert not dst.exists()


def test_a_lone_single_date_series_has_no_frequency_and_is_skipped():
    out, report = forecast_frame(long_frame({"one": FIVE["daily"].iloc[:1]}), horizon=2, jobs=1, progress=False)
    assert out.empty
    assert report["skipped"] == [
        {"series_id": "one", "error": "a single date and no other series in the file to take a frequency from"}
    ]


def test_missing_column_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"missing column 'value'"):
        forecast_file(DATA / "missing_column.csv", tmp_path / "out.csv", horizon=2, progress=False)


def test_bad_date_and_duplicate_skip_their_series_and_bad_arguments_are_rejected():
    df = long_frame({"y": FIVE["yearly"], "z": FIVE["quarterly"]})
    bad = df.astype({"date": str})
    bad.loc[4, "date"] = "not-a-date"
    out, report = forecast_frame(bad, horizon=2, jobs=1, progress=False)
    assert report["skipped"] == [{"series_id": "y", "error": "row 5: date 'not-a-date' is not a date"}]
    assert set(out.series_id) == {"z"}
    out, report = forecast_frame(pd.concat([df, df.iloc[[3]]], ignore_index=True), horizon=2, jobs=1, progress=False)
    assert report["skipped"] == [{"series_id": "y", "error": "row 45: duplicate date 2003-01-01"}]
    assert set(out.series_id) == {"z"}
    with pytest.raises(ValueError, match="horizon"):
        forecast_frame(df, horizon=0, jobs=1, progress=False)
    with pytest.raises(ValueError, match="level"):
        forecast_frame(df, horizon=2, level=100, jobs=1, progress=False)


def test_failing_series_falls_back_to_seasonal_naive_and_is_flagged(monkeypatch):
    import shared.forecasting.batch as batch

    def broken(y, **kwargs):
        if y.name == "bad":
            raise RuntimeError("selection exploded")
        return real(y, **kwargs)

    real = batch.select_model
    monkeypatch.setattr(batch, "select_model", broken)
    df = long_frame({"good": FIVE["yearly"], "bad": FIVE["quarterly"]})
    out, report = forecast_frame(df, horizon=4, jobs=1, progress=False)
    assert report["fallbacks"] == [{"series_id": "bad", "error": "RuntimeError: selection exploded"}]
    expected = build({"name": "snaive", "freq": "QS"}).fit(FIVE["quarterly"]).predict(4)["mean"].to_numpy()
    np.testing.assert_allclose(out.loc[out.series_id == "bad", "forecast"], expected)
    assert len(out) == 8
