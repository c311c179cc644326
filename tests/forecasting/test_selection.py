"""select_model end to end on small synthetic series: candidates, champion handling, failures."""

from __future__ import annotations

import copy
import io
import json
import logging
import types

import joblib
import numpy as np
import pandas as pd
import pytest

from shared.forecasting import calibration, fit_spec, select_model
from shared.forecasting.arima import Arima
from shared.forecasting.families import FAMILIES, build
from shared.forecasting.selection import rank

from .conftest import seasonal_series


def test_selection_scores_every_candidate_on_shared_windows(monthly):
    sel = select_model(monthly)
    assert set(FAMILIES) | {"combo"} <= set(sel.candidates)
    windows = {name: c["windows"] for name, c in sel.candidates.items()}
    assert set(windows.values()) == {len(sel.backtest["cutoffs"])}
    assert sel.spec["name"] == rank(sel.candidates)[0] == sel.backtest["selected"]
    best = min(sel.candidates, key=lambda n: sel.candidates[n]["mase"])
    assert sel.decision["promote"] is True and sel.champion is None
    assert sel.spec["interval"]["method"] in ("model", "scaled")
    json.dumps({"spec": sel.spec, "c": sel.candidates, "d": sel.decision, "b": sel.backtest})
    json.dumps(sel.model.params)
    frame = sel.model.predict(18)
    assert frame.index[0] == monthly.index[-1] + pd.offsets.MonthBegin(1) and len(frame) == 18
    # Seasonal data: every serious candidate beats the naive baseline's scale.
    assert sel.candidates[best]["mase"] < 1.0


def test_the_selected_intervals_are_calibrated_on_the_selected_backtest_windows(monthly):
    sel = select_model(monthly)
    chosen = sel.backtest["selected"]
    assert set(sel.windows) == set(sel.candidates)
    expected = calibration.calibrate(sel.windows[chosen])
    assert sel.spec["interval"]["factors"] == pytest.approx(expected["factors"])
    assert sel.spec["interval"]["weight"] == pytest.approx(4 / (4 + calibration.PRIOR_WINDOWS))
    raw = copy.copy(sel.model).with_interval({"method": "model"}).predict(18, (95,))
    served = sel.model.predict(18, (95,))
    factor95 = np.interp(95.0, expected["levels"], expected["factors"])
    np.testing.assert_allclose(served["upper_95"] - served["mean"], factor95 * (raw["upper_95"] - raw["mean"]))


@pytest.mark.slow
def test_worse_champion_is_replaced_and_same_spec_is_kept_and_refreshed(monthly):
    flat = {"name": "arima", "freq": "MS", "order": [0, 0, 0], "seasonal_order": [0, 0, 0, 12], "constant": True}
    sel = select_model(monthly, champion_spec=flat)
    assert sel.decision["promote"] is True
    assert sel.champion["mase"] > sel.backtest["metrics"]["mase"]
    assert sel.decision["per_window_mase"]["champion"] == sel.champion["per_window_mase"]

    # A champion of the very form this data selects scores the same on the same windows: it is kept, refitted.
    longer = seasonal_series(n=99)
    same = select_model(longer).spec
    again = select_model(longer, champion_spec={**same, "interval": {"method": "model", "points": 0}})
    assert again.spec == same and again.decision["promote"] is False
    assert again.decision["improvement"] == 0 and "not 2% below" in again.decision["reason"]
    assert again.champion["per_window_mase"] == again.backtest["metrics"]["per_window_mase"]
    assert again.champion_model is not None and again.champion_model.spec["interval"] == same["interval"]
    assert again.champion_model.predict(1).index[0] == longer.index[-1] + pd.offsets.MonthBegin(1)


def test_combination_is_refitted_from_its_spec_and_stays_small(monthly):
    spec = {
        "name": "combo",
        "freq": "MS",
        "members": [
            {
                "name": "ets",
                "freq": "MS",
                "error": "add",
                "trend": None,
                "damped": False,
                "seasonal": "add",
                "period": 12,
            },
            {"name": "theta", "freq": "MS"},
        ],
    }
    fit = fit_spec(monthly, spec)
    members = [fit_spec(monthly, m).predict(6)["mean"] for m in spec["members"]]
    np.testing.assert_allclose(fit.predict(6)["mean"], (members[0] + members[1]) / 2)
    buf = io.BytesIO()
    joblib.dump(fit, buf)
    assert len(buf.getvalue()) < 1_000_000
    json.dumps(fit.params)


def test_fit_spec_refits_a_stored_spec_on_new_data(monthly):
    spec = select_model(monthly).spec
    refreshed = fit_spec(seasonal_series(n=100), json.loads(json.dumps(spec)))
    assert refreshed.spec["name"] == spec["name"]
    assert refreshed.spec["interval"] == spec["interval"]
    assert refreshed.predict(1).index[0] == pd.Timestamp("2023-05-01")


def test_candidate_failing_on_windows_falls_back_to_naive_and_is_logged(monthly, monkeypatch, caplog):
    real = Arima.fit

    def broken_refit(self, y, start=None, estimate=None, previous=None):
        if estimate is None:  # refits on backtest windows; the search's own fit passes its estimate
            raise RuntimeError("simulated ARIMA failure")
        return real(self, y, start, estimate, previous)

    monkeypatch.setattr(Arima, "fit", broken_refit)
    with caplog.at_level(logging.WARNING, logger="shared.forecasting"):
        sel = select_model(monthly)
    assert "candidate arima failed on window" in caplog.text and "simulated ARIMA failure" in caplog.text
    arima = sel.candidates["arima"]
    assert arima["fallback_windows"] == arima["windows"] > 0  # every window fell back to seasonal naive
    np.testing.assert_allclose(arima["per_window_mase"], sel.candidates["snaive"]["per_window_mase"])
    assert sel.model.predict(3)["mean"].notna().all()


def test_candidate_that_cannot_be_specified_is_left_out_and_logged(monthly, monkeypatch, caplog):
    import shared.forecasting.families as families

    def broken(y, freq, seasonal=True):
        raise RuntimeError("no order fits")

    monkeypatch.setattr(families, "auto_arima", broken)
    with caplog.at_level(logging.WARNING, logger="shared.forecasting"):
        sel = select_model(monthly)
    warning = [r for r in caplog.records if r.levelno == logging.WARNING and "candidate arima" in r.getMessage()]
    assert warning and "engine failure" in warning[0].getMessage() and "no order fits" in warning[0].getMessage()
    assert sel.candidates["arima"] == {"error": "RuntimeError: no order fits", "cause": "engine"}
    assert sel.failures["engine"] == 1 and sel.failures["data"] == 0
    assert sel.failures["candidates"] == {"arima": {"cause": "engine", "error": "RuntimeError: no order fits"}}
    assert {"ets", "theta", "snaive"} <= {n for n, c in sel.candidates.items() if "mase" in c}
    assert sel.spec["name"] != "arima"


def test_a_family_the_data_cannot_support_is_counted_as_a_data_failure(monthly, monkeypatch, caplog):
    import shared.forecasting.families as families

    def too_short(y, freq):
        raise ValueError("no ETS form could be fitted")

    monkeypatch.setattr(families, "auto_ets", too_short)
    with caplog.at_level(logging.INFO, logger="shared.forecasting"):
        sel = select_model(monthly)
    records = [r for r in caplog.records if "candidate ets" in r.getMessage()]
    assert records and records[0].levelno == logging.INFO and "data failure" in records[0].getMessage()
    assert sel.failures["engine"] == 0 and sel.failures["data"] == 1
    assert sel.candidates["ets"]["cause"] == "data"


def test_an_engine_fault_in_every_ets_form_is_not_mistaken_for_unfit_data(monthly, monkeypatch):
    """A changed private smoother (here: a TypeError, as from a new signature) must surface as an engine fault."""
    import shared.forecasting.etscore as etscore

    def changed_signature(*args):
        raise TypeError("_ets_smooth_add_add() takes 7 positional arguments but 8 were given")

    broken = types.SimpleNamespace(_ets_smooth_add_add=changed_signature, _ets_smooth_add_mul=changed_signature)
    monkeypatch.setattr(etscore, "smooth", broken)
    sel = select_model(monthly)
    assert sel.candidates["ets"]["cause"] == "engine"
    assert sel.failures["engine"] == 1


def test_a_healthy_selection_reports_no_failures(monthly):
    sel = select_model(monthly)
    assert sel.failures == {"engine": 0, "data": 0, "candidates": {}, "engine_windows": 0}


def test_constant_series_forecasts_the_constant():
    y = pd.Series(5.0, index=pd.date_range("2020-01-01", periods=40, freq="D"))
    sel = select_model(y)
    frame = sel.model.predict(7)
    np.testing.assert_allclose(frame["mean"], 5.0, atol=1e-6)
    assert (frame["lower_95"] <= 5.0 + 1e-6).all() and (frame["upper_95"] >= 5.0 - 1e-6).all()


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="DatetimeIndex"):
        select_model(pd.Series([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="0 observations; at least 1"):
        select_model(pd.Series([], index=pd.DatetimeIndex([], freq="D"), dtype=float))
    with pytest.raises(ValueError, match="missing"):
        select_model(pd.Series([1.0, np.nan, 3.0], index=pd.date_range("2020-01-01", periods=3, freq="D")))


def _candidates(windows: int, members=("arima", "ets"), **mase: float) -> dict:
    members = [{"name": name} for name in members]
    out = {name: {"mase": value, "windows": windows} for name, value in mase.items()}
    out["combo"]["spec"] = {"name": "combo", "members": members}
    return out


def test_rank_prefers_the_combination_unless_a_member_is_clearly_better():
    # 4 windows: a member must be 10% better than the combination.
    assert rank(_candidates(4, arima=0.95, ets=0.93, theta=0.5, snaive=0.9, combo=1.0))[0] == "combo"
    assert rank(_candidates(4, arima=0.85, ets=0.93, theta=0.9, snaive=0.9, combo=1.0))[:2] == ["arima", "theta"]
    # 6 windows: 2% is enough.
    assert rank(_candidates(6, arima=0.97, ets=0.95, theta=0.9, snaive=0.9, combo=1.0))[0] == "ets"
    assert rank(_candidates(6, arima=0.99, ets=0.985, theta=0.9, snaive=0.9, combo=1.0))[0] == "combo"
    # Without a combination, plain order by MASE.
    assert rank({"theta": {"mase": 0.8}, "snaive": {"mase": 0.9}}) == ["theta", "snaive"]


def test_theta_in_the_combination_never_replaces_it_and_arima_or_ets_still_can():
    three = ("arima", "ets", "theta")
    assert rank(_candidates(4, three, arima=0.95, ets=0.93, theta=0.5, snaive=0.9, combo=1.0))[0] == "combo"
    assert rank(_candidates(4, three, arima=0.85, ets=0.93, theta=0.5, snaive=0.9, combo=1.0))[0] == "arima"


def test_windows_one_period_apart_never_let_a_member_replace_the_combination():
    candidates = _candidates(4, arima=0.5, ets=0.93, theta=0.9, snaive=0.9, combo=1.0)
    assert rank(candidates, step=1)[0] == "combo"
    assert rank(candidates, step=2)[0] == rank(candidates)[0] == "arima"


def _yearly_trend(n: int = 40, seed: int = 3) -> pd.Series:
    values = 100 + np.cumsum(np.random.default_rng(seed).normal(1.0, 2.0, n))
    return pd.Series(values, index=pd.date_range("1980-01-01", periods=n, freq="YS"))


def test_theta_joins_the_combination_when_it_deseasonalizes(monthly):
    sel = select_model(monthly)
    assert sel.candidates["theta"]["spec"]["deseasonalize"] is True
    assert [m["name"] for m in sel.candidates["combo"]["spec"]["members"]] == ["arima", "ets", "theta"]
    combo = sel.windows["combo"]
    parts = [sel.windows[n] for n in ("arima", "ets", "theta")]
    np.testing.assert_allclose(combo.means[0], np.mean([p.means[0] for p in parts], axis=0))
    # refitted from its spec, the combination is the mean of its three members refitted from theirs
    combined = fit_spec(monthly, sel.candidates["combo"]["spec"]).predict(6)["mean"]
    members = [fit_spec(monthly, m).predict(6)["mean"] for m in sel.candidates["combo"]["spec"]["members"]]
    np.testing.assert_allclose(combined, np.mean(members, axis=0))


def test_a_yearly_series_keeps_the_arima_ets_combination_without_member_override():
    y = _yearly_trend()
    sel = select_model(y, horizon=6)
    assert sel.candidates["theta"]["spec"]["deseasonalize"] is False
    assert [m["name"] for m in sel.candidates["combo"]["spec"]["members"]] == ["arima", "ets"]
    assert sel.backtest["step"] == 1 and sel.spec["name"] == "combo"


def test_a_new_product_with_a_few_days_gets_a_marked_fallback_with_widening_intervals():
    y = pd.Series([12.0, 15.0, 9.0, 14.0], index=pd.date_range("2024-03-01", periods=4, freq="D"))
    sel = select_model(y)
    assert sel.spec["name"] == "fallback" and sel.spec["fallback"] is True
    assert sel.fallback == {
        "reason": "4 observation(s): too short for a backtest window; full selection from 9",
        "observations": 4,
        "needed": 9,
    }
    assert sel.decision["promote"] is True and sel.candidates == {}
    frame = sel.model.predict(28, (80, 95))
    np.testing.assert_allclose(frame["mean"], y.mean())
    width = (frame["upper_95"] - frame["lower_95"]).to_numpy()
    assert np.all(np.diff(width) > 0) and width[0] > 4 * y.std()  # t with 3 df and the horizon widen it
    assert (frame["upper_80"] - frame["lower_80"] < frame["upper_95"] - frame["lower_95"]).all()


def test_a_single_observation_gets_the_fallback_and_no_frequency_is_refused():
    one = pd.Series([40.0], index=pd.date_range("2024-03-01", periods=1, freq="D"))
    frame = select_model(one).model.predict(3)
    assert (frame["mean"] == 40.0).all() and (frame["lower_95"] < 40.0).all() and (frame["upper_95"] > 40).all()
    with pytest.raises(ValueError, match="single observation has no frequency"):
        select_model(pd.Series([40.0], index=pd.DatetimeIndex(["2024-03-01"])))


def test_the_fallback_champion_is_replaced_by_the_first_full_selection(monthly):
    champion = select_model(monthly.iloc[:5]).spec
    sel = select_model(monthly, champion_spec=champion)
    assert sel.fallback is None and sel.spec["name"] != "fallback"
    assert sel.decision["promote"] is True and "cold-start fallback" in sel.decision["reason"]


def test_without_a_backtest_window_a_full_champion_gives_way_to_the_fallback():
    # Training data can shrink (older data beyond a long gap is left out): no window, nothing to compare.
    y = pd.Series([12.0, 15.0, 9.0, 14.0], index=pd.date_range("2024-03-01", periods=4, freq="D"))
    champion = {"name": "arima", "freq": "D", "order": [1, 0, 0], "seasonal_order": [0, 0, 0, 0], "constant": True}
    sel = select_model(y, champion_spec=champion)
    assert sel.spec["name"] == "fallback" and sel.champion is None and sel.champion_model is None
    assert sel.decision["promote"] is True and sel.decision["rule"].startswith("cold start")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["chosen", "ets", "combo"])
def test_a_champion_of_a_candidates_form_reuses_its_backtest(monthly, monkeypatch, kind):
    import shared.forecasting.selection as selection

    first = select_model(monthly)
    champion = first.spec if kind == "chosen" else first.candidates[kind]["spec"]
    calls = []
    real = selection.forecast_windows

    def counting(spec, *args):
        calls.append(spec["name"])
        return real(spec, *args)

    monkeypatch.setattr(selection, "forecast_windows", counting)
    again = select_model(monthly, champion_spec={**champion, "interval": {"method": "model"}})
    assert sorted(calls) == sorted(n for n in first.candidates if n != "combo")  # no extra champion backtest
    assert again.champion["per_window_mase"] == first.candidates[champion["name"]]["per_window_mase"]
    expected = first.candidates[champion["name"]]
    assert again.champion["raw"]["mase"] == pytest.approx(expected["mase"])
    np.testing.assert_allclose(
        again.champion_model.predict(6)["mean"], build(champion).fit(monthly).predict(6)["mean"], rtol=1e-6
    )


def test_a_champion_of_another_form_gets_its_own_backtest(monthly, monkeypatch):
    import shared.forecasting.selection as selection

    calls = []
    real = selection.forecast_windows
    monkeypatch.setattr(selection, "forecast_windows", lambda spec, *a: calls.append(spec["name"]) or real(spec, *a))
    sel = select_model(monthly, champion_spec={"name": "snaive", "freq": "MS", "period": 1})
    assert calls.count("snaive") == 2 and sel.champion["windows"] == 4
