"""One AICc: equal to statsmodels' own on fitted models, and the one every model search reports."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from shared.forecasting.criteria import aicc, gaussian_loglik
from shared.forecasting.families import resolve_fit

from .conftest import seasonal_series


@pytest.mark.slow
def test_aicc_equals_statsmodels_aicc_of_a_fitted_arima():
    y = seasonal_series(n=60).to_numpy()
    res = ARIMA(y, order=(1, 0, 1), trend="c").fit()
    assert aicc(res.llf, res.nobs_effective, res.df_model) == pytest.approx(res.aicc, rel=1e-12)


def test_aicc_equals_statsmodels_aicc_of_a_fitted_ets():
    y = seasonal_series(n=48)
    res = ETSModel(y.to_numpy(), error="add", trend="add").fit(disp=False)
    assert aicc(res.llf, res.nobs, res.df_model) == pytest.approx(res.aicc, rel=1e-12)


def test_aicc_is_infinite_when_the_correction_is_undefined():
    assert aicc(-10.0, 5, 4) == float("inf")
    assert aicc(-10.0, 6, 4) == pytest.approx(20 + 8 + 40)


def test_gaussian_loglik_is_the_normal_density_at_the_ml_variance():
    rng = np.random.default_rng(3)
    e = rng.normal(0, 2, 200)
    sigma2 = float(np.mean(e**2))
    direct = float(np.sum(-0.5 * np.log(2 * np.pi * sigma2) - e**2 / (2 * sigma2)))
    assert gaussian_loglik(sigma2, len(e)) == pytest.approx(direct, rel=1e-12)
    assert np.isfinite(gaussian_loglik(0.0, 10))


def test_the_ets_search_reports_this_aicc(monthly):
    """The AICc an ETS fit stores is this function at its log-likelihood and its parameter count."""
    spec, fit = resolve_fit("ets", monthly, "MS")
    states = 1 + (spec["trend"] is not None) + (spec["period"] - 1 if spec["seasonal"] else 0)
    smoothing = 1 + (spec["trend"] is not None) + (spec["seasonal"] is not None) + bool(spec["damped"])
    expected = aicc(fit.params["loglik"], len(monthly), states + smoothing + 1)  # + 1: the innovation variance
    assert np.isfinite(expected)
    assert fit.params["aicc"] == pytest.approx(expected, rel=1e-12) == spec["search"]["aicc"]
