"""The private statsmodels symbols the engine runs on, the version they were checked with, and their guard.

The engine's ARIMA and ETS likelihoods call compiled statsmodels internals that carry no stability promise.
Every private symbol is imported here and only here (`arima.py` and `etscore.py` take them from this
module), beside the statsmodels version pinned in requirements.txt (`PINNED_STATSMODELS`; a test keeps the
two equal). `verification.verify()` recomputes both likelihoods at given parameters with the private code and with the
public `ARIMA(...).loglike` / `ETSModel(...).loglike`, and raises `PrivateApiMismatch` if they disagree:
tests run it at the engine's own estimates, so a statsmodels upgrade that changes or removes one of these
functions fails a test instead of quietly dropping a model family.
"""

from __future__ import annotations

import importlib
from types import ModuleType

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
