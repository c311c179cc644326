"""The fits' stopping tolerances (arima.ML_TOLERANCE, etscore.TOLERANCE) still reach statsmodels' own optimum."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from shared.forecasting import verification
from shared.forecasting.arima import Arima, Order, diff_poly, exact_loglik
from shared.forecasting.ets import Ets

from .conftest import seasonal_series

LOGLIK_SLACK = 0.05  # the engine's maximum may fall short of statsmodels' by at most this much log-likelihood


def test_exact_ml_arima_reaches_the_statsmodels_maximum():
    from statsmodels.tsa.arima.model import ARIMA

    y = seasonal_series(n=120, seed=5)
    spec = {"name": "arima", "freq": "MS", "order": [1, 1, 1], "seasonal_order": [1, 1, 0, 12], "constant": False}
    fit = Arima(spec).fit(y)
    order = Order.from_spec(spec)
    delta = diff_poly(order.d, order.sd, order.m)
    w = np.convolve(y.to_numpy(), delta)[len(delta) - 1 : len(y)]
    ours = exact_loglik(order, np.asarray(fit.params["theta"]), w)[3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        public = ARIMA(w, order=(1, 0, 1), seasonal_order=(1, 0, 0, 12), trend="n").fit().llf
    assert ours >= public - LOGLIK_SLACK


@pytest.mark.parametrize(
    "form",
    [
        {"error": "add", "trend": "add", "damped": False, "seasonal": "add"},
        {"error": "mul", "trend": "add", "damped": False, "seasonal": "mul"},
    ],
)
def test_ets_joint_fit_reaches_the_statsmodels_maximum(form):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = seasonal_series(n=80, freq="QS", m=4, seed=9)
    spec = {"name": "ets", "freq": "QS", "period": 4 if form["seasonal"] else 1, **form}
    fit = Ets(spec).fit(y)
    assert verification.verify(fit, y)["ours"] == pytest.approx(fit.params["loglik"])
    model = ETSModel(
        y.to_numpy(),
        error=form["error"],
        trend=form["trend"],
        damped_trend=form["damped"],
        seasonal=form["seasonal"],
        seasonal_periods=4 if form["seasonal"] else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        public = model.fit(disp=False).llf
    assert fit.params["loglik"] >= public - LOGLIK_SLACK
