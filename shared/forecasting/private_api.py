"""The private statsmodels symbols the engine runs on, the version they were checked with, and their guard.

The engine's ARIMA and ETS likelihoods call compiled statsmodels internals that carry no stability promise.
Every private symbol is imported here and only here (`arima.py` and `etscore.py` take them from this
module), beside the statsmodels version pinned in requirements.txt (`PINNED_STATSMODELS`; a test keeps the
two equal). `verify()` recomputes both likelihoods at given parameters with the private code and with the
public `ARIMA(...).loglike` / `ETSModel(...).loglike`, and raises `PrivateApiMismatch` if they disagree:
tests run it at the engine's own estimates, so a statsmodels upgrade that changes or removes one of these
functions fails a test instead of quietly dropping a model family.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

PINNED_STATSMODELS = "0.15.0"  # the version of statsmodels in requirements.txt these symbols were checked with
PRIVATE_SYMBOLS: dict[str, tuple[str, ...]] = {
    # ARIMA exact likelihood: innovations algorithm (used by arima.exact_innovations)
    "statsmodels.tsa.innovations._arma_innovations": (
        "darma_transformed_acovf_fast",
        "darma_innovations_algo_fast",
        "darma_innovations_filter",
    ),
    # ETS one-step forecasts and states (used by etscore.EtsLikelihood)
    "statsmodels.tsa.exponential_smoothing._ets_smooth": ("_ets_smooth_add_add", "_ets_smooth_add_mul"),
}
RELATIVE_TOLERANCE = 1e-5  # log-likelihoods of the two paths must agree to this relative difference
# What a fit raises because of the data (too short, non-positive for a multiplicative form, singular,
# non-stationary...). Anything else (TypeError, AttributeError, ImportError, PrivateApiError...) is a fault
# of the engine or of its dependencies: selection logs it at WARNING and counts it apart.
DATA_ERRORS = (ValueError, ArithmeticError)


class PrivateApiError(RuntimeError):
    """A private statsmodels symbol the engine needs is missing or behaves differently from the public API.

    Not a property of the data: selection logs it at WARNING and counts it as an engine failure.
    """


class PrivateApiMismatch(PrivateApiError):
    """The private and the public statsmodels paths give different log-likelihoods."""


def failure_cause(exc: BaseException) -> str:
    """ "data" for an exception the data can cause (DATA_ERRORS), else "engine"."""
    return "data" if isinstance(exc, DATA_ERRORS) else "engine"


def load(module_name: str) -> ModuleType:
    """Import one module of PRIVATE_SYMBOLS and check that every symbol listed for it exists."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PrivateApiError(
            f"{module_name} cannot be imported (statsmodels pinned at {PINNED_STATSMODELS}): {exc}"
        ) from exc
    missing = [name for name in PRIVATE_SYMBOLS[module_name] if not hasattr(module, name)]
    if missing:
        raise PrivateApiError(
            f"{module_name} lacks {', '.join(missing)} (checked with statsmodels {PINNED_STATSMODELS})"
        )
    return module


innovations = load("statsmodels.tsa.innovations._arma_innovations")
ets_smooth = load("statsmodels.tsa.exponential_smoothing._ets_smooth")


def _close(ours: float, public: float) -> bool:
    return bool(np.isfinite(ours) and abs(ours - public) <= RELATIVE_TOLERANCE * max(1.0, abs(public)))


def arima_public_loglik(fit, y) -> float:
    """statsmodels' `ARIMA(...).loglike` of the differenced series at an engine ARIMA fit's parameters."""
    from statsmodels.tsa.arima.model import ARIMA

    from .arima import Order, diff_poly

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
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    spec, p = fit.spec, fit.params
    seasonal = spec["seasonal"]
    model = ETSModel(
        np.asarray(y, dtype=float),
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
    return float(model.loglike(np.asarray([values[name] for name in model.param_names], dtype=float)))


def verify(fit, y) -> dict:
    """Compare an engine ARIMA or ETS fit's log-likelihood with the public statsmodels one on the same data.

    Returns {"ours", "public"}; raises PrivateApiMismatch when they differ by more than RELATIVE_TOLERANCE.
    """
    from .arima import ArimaFit, Order, exact_loglik
    from .ets import EtsFit

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
