"""Check the engine's private-code likelihoods against statsmodels' public API at the same parameters."""

from __future__ import annotations

import numpy as np

from .arima import ArimaFit, Order, diff_poly, exact_loglik
from .ets import EtsFit
from .private_api import PINNED_STATSMODELS, PrivateApiMismatch

RELATIVE_TOLERANCE = 1e-5  # log-likelihoods of the two paths must agree to this relative difference


def _close(ours: float, public: float) -> bool:
    return bool(np.isfinite(ours) and abs(ours - public) <= RELATIVE_TOLERANCE * max(1.0, abs(public)))


def arima_public_loglik(fit, y) -> float:
    """statsmodels' `ARIMA(...).loglike` of the differenced series at an engine ARIMA fit's parameters."""
    from statsmodels.tsa.arima.model import ARIMA

    order = Order.from_spec(fit.spec)
    values = np.asarray(y, dtype=float)
    delta = diff_poly(order.d, order.sd, order.m)
    w = np.convolve(values, delta)[len(delta) - 1 : len(values)]
    p = fit.params
    model = ARIMA(
        w,
        order=(order.p, 0, order.q),
        seasonal_order=(order.sp, 0, order.sq, order.m if (order.sp or order.sq) else 0),
        trend="c" if order.constant else "n",
    )
    params = ([p["constant"]] if order.constant else []) + p["ar"] + p["ma"] + p["sar"] + p["sma"] + [p["sigma2"]]
    return float(model.loglike(np.asarray(params, dtype=float)))


def ets_public_loglik(fit, y) -> float:
    """statsmodels' `ETSModel(...).loglike` at an engine ETS fit's parameters and initial states."""
    model, params = ets_public_model(fit, y)
    return float(model.loglike(params))


def ets_public_model(fit, y):
    """statsmodels' `ETSModel` of an engine ETS fit's form on y, and the fit's parameters in its order."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    spec, p = fit.spec, fit.params
    seasonal = spec["seasonal"]
    model = ETSModel(
        y.astype(float) if hasattr(y, "index") else np.asarray(y, dtype=float),  # a Series keeps its dates
        error=spec["error"],
        trend=spec["trend"],
        damped_trend=bool(spec.get("damped")),
        seasonal=seasonal,
        seasonal_periods=int(spec["period"]) if seasonal else None,
    )
    values = {
        "smoothing_level": p["alpha"],
        "smoothing_trend": p["beta"],
        "smoothing_seasonal": p["gamma"],
        "damping_trend": p["phi"],
        "initial_level": p["initial_level"],
        "initial_trend": p["initial_trend"],
    }
    # statsmodels orders the initial seasonal states s[-1], ..., s[-m]; the engine stores s[-m], ..., s[-1].
    values.update({f"initial_seasonal.{i}": v for i, v in enumerate(p["initial_season"][::-1])})
    return model, np.asarray([values[name] for name in model.param_names], dtype=float)


def verify(fit, y) -> dict:
    """Compare an engine ARIMA or ETS fit's log-likelihood with the public statsmodels one on the same data.

    Returns {"ours", "public"}; raises PrivateApiMismatch when they differ by more than RELATIVE_TOLERANCE.
    """
    if isinstance(fit, ArimaFit):
        order = Order.from_spec(fit.spec)
        values = np.asarray(y, dtype=float)
        delta = fit.state["delta"]
        w = np.convolve(values, delta)[len(delta) - 1 : len(values)]
        ours = exact_loglik(order, np.asarray(fit.params["theta"], dtype=float), w)[3]
        public = arima_public_loglik(fit, y)
    elif isinstance(fit, EtsFit):
        ours, public = fit.params["loglik"], ets_public_loglik(fit, y)
    else:
        raise TypeError(f"verify checks ARIMA and ETS fits, got {type(fit).__name__}")
    if not _close(ours, public):
        raise PrivateApiMismatch(
            f"{fit.spec['name']} log-likelihood {ours!r} from the private statsmodels code differs from the "
            f"public API's {public!r} (statsmodels pinned at {PINNED_STATSMODELS}); see private_api.PRIVATE_SYMBOLS"
        )
    return {"ours": float(ours), "public": float(public)}
