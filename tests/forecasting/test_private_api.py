"""Guards on the private statsmodels code the engine runs on: equivalence with the public API, and the pin."""

from __future__ import annotations

import re
import types
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from shared.forecasting import private_api, verification
from shared.forecasting.autoarima import auto_arima, roots_ok
from shared.forecasting.ets import admissible_forms, auto_ets, short_name
from shared.forecasting.families import build

from .conftest import seasonal_series

ROOT = Path(__file__).resolve().parents[2]


def test_the_private_symbols_are_listed_beside_the_pinned_statsmodels():
    pinned = re.search(r"^statsmodels==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert private_api.PINNED_STATSMODELS == pinned == version("statsmodels")
    for module, names in private_api.PRIVATE_SYMBOLS.items():
        loaded = private_api.load(module)
        assert all(callable(getattr(loaded, name)) for name in names)


def test_engine_modules_take_private_symbols_only_from_private_api():
    sources = (ROOT / "shared" / "forecasting").glob("*.py")
    private = re.compile(r"statsmodels[\w.]*(\._|\s+import\s+(\(\s*)?_)")
    assert private.search("from statsmodels.tsa.innovations import _arma_innovations as innovations")
    assert private.search("import statsmodels.tsa.exponential_smoothing._ets_smooth as smooth")
    assert not private.search("from statsmodels.tsa.seasonal import STL")
    offenders = [p.name for p in sources if p.name != "private_api.py" and private.search(p.read_text())]
    assert offenders == []


def test_a_missing_private_symbol_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(
        private_api.PRIVATE_SYMBOLS, "statsmodels.tsa.innovations._arma_innovations", ("no_such_function",)
    )
    with pytest.raises(private_api.PrivateApiError, match=r"lacks no_such_function.*statsmodels 0\.15\.0"):
        private_api.load("statsmodels.tsa.innovations._arma_innovations")


def _forms(y: pd.Series, m: int) -> list[dict]:
    return [
        {"name": "ets", "freq": "MS", "period": m if f["seasonal"] else 1, **f} for f in admissible_forms(y.values, m)
    ]


SEARCHED_FORMS = _forms(seasonal_series(96), 12)


def test_the_search_uses_all_fifteen_ets_forms_on_positive_seasonal_data():
    names = {short_name(spec) for spec in SEARCHED_FORMS}
    assert len(names) == 15 and "ETS(M,Ad,M)" in names and "ETS(A,N,M)" not in names


@pytest.mark.parametrize("spec", SEARCHED_FORMS, ids=short_name)
def test_ets_loglik_equals_the_public_etsmodel_loglike_for_every_searched_form(spec):
    y = seasonal_series(96)
    fit = build(spec).fit(y)
    result = verification.verify(fit, y)
    assert result["ours"] == pytest.approx(result["public"], rel=1e-9)


def test_ets_loglik_equals_the_public_one_at_the_auto_ets_estimate_on_non_seasonal_data():
    rng = np.random.default_rng(5)
    y = pd.Series(50 + np.cumsum(rng.normal(0.2, 1, 60)), index=pd.date_range("2020-01-01", periods=60, freq="QS"))
    _, fit = auto_ets(y, "QS")
    result = verification.verify(fit, y)
    assert result["ours"] == pytest.approx(result["public"], rel=1e-9)


ARIMA_ORDERS = [
    ([1, 0, 1], [1, 0, 0, 12], True),
    ([2, 1, 1], [1, 0, 0, 12], False),
    ([0, 1, 1], [0, 0, 1, 12], True),
    ([1, 0, 2], [0, 0, 1, 12], True),
    ([3, 0, 0], [0, 0, 0, 12], True),
]


@pytest.mark.parametrize(("order", "seasonal", "constant"), ARIMA_ORDERS, ids=str)
def test_arima_exact_loglik_equals_the_public_arima_loglike_at_the_engines_estimate(order, seasonal, constant):
    """At estimates the search accepts (roots off the unit circle); at a unit root both paths are ill-conditioned."""
    rng = np.random.default_rng(3)
    t = np.arange(120)
    values = 100 + 10 * np.sin(2 * np.pi * t / 12) + lfilter([1.0, 0.3], [1.0, -0.6], rng.normal(0, 2, 120))
    y = pd.Series(
        values if order[1] == 0 else np.cumsum(values - 100), index=pd.date_range("2010-01-01", periods=120, freq="MS")
    )
    spec = {"name": "arima", "freq": "MS", "order": order, "seasonal_order": seasonal, "constant": constant}
    fit = build(spec).fit(y)
    assert roots_ok(fit.state["ar"]) and roots_ok(fit.state["ma"])
    result = verification.verify(fit, y)
    assert np.isfinite(result["ours"])


def test_arima_exact_loglik_equals_the_public_one_at_the_auto_arima_choice():
    y = seasonal_series(120, seed=8)
    spec, fit = auto_arima(y, "MS")
    assert spec["method"] == "ml"
    verification.verify(fit, y)


def test_the_guard_fails_when_the_private_arima_filter_returns_a_wrong_result(monkeypatch):
    import shared.forecasting.arima as arima

    y = seasonal_series(96, seed=3)
    fit = build(
        {"name": "arima", "freq": "MS", "order": [1, 0, 1], "seasonal_order": [1, 0, 0, 12], "constant": True}
    ).fit(y)
    real = arima.innovations

    def off_by_two_percent(*args):
        return np.asarray(real.darma_innovations_filter(*args)) * 1.02

    wrong = types.SimpleNamespace(
        darma_transformed_acovf_fast=real.darma_transformed_acovf_fast,
        darma_innovations_algo_fast=real.darma_innovations_algo_fast,
        darma_innovations_filter=off_by_two_percent,
    )
    monkeypatch.setattr(arima, "innovations", wrong)
    with pytest.raises(private_api.PrivateApiMismatch, match="arima log-likelihood"):
        verification.verify(fit, y)


def test_the_guard_fails_when_the_private_ets_smoother_returns_a_wrong_result(monkeypatch):
    import shared.forecasting.etscore as etscore

    real = etscore.smooth

    def shifted(params, data, yhat, xhat, *rest):
        real._ets_smooth_add_add(params, data, yhat, xhat, *rest)
        yhat += 0.5  # one-step forecasts off by half a unit

    wrong = types.SimpleNamespace(_ets_smooth_add_add=shifted, _ets_smooth_add_mul=real._ets_smooth_add_mul)
    monkeypatch.setattr(etscore, "smooth", wrong)
    y = seasonal_series(96)
    fit = build({"name": "ets", "freq": "MS", "period": 12, "error": "add", "trend": "add", "seasonal": "add"}).fit(y)
    with pytest.raises(private_api.PrivateApiMismatch, match="ets log-likelihood"):
        verification.verify(fit, y)


def test_verify_refuses_models_without_a_private_likelihood():
    y = seasonal_series(48)
    with pytest.raises(TypeError, match="ARIMA and ETS"):
        verification.verify(build({"name": "snaive", "freq": "MS"}).fit(y), y)
