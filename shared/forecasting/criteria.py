"""Information criteria: the Gaussian concentrated log-likelihood and the AICc every model search ranks by."""

from __future__ import annotations

import numpy as np

TINY_VARIANCE = 1e-300  # a zero innovation variance is scored as this, so the log stays finite


def gaussian_loglik(sigma2: float, n: int) -> float:
    """Log-likelihood of n Gaussian innovations at their ML variance sigma2 (the variance concentrated out)."""
    return float(-0.5 * n * (np.log(2 * np.pi * max(sigma2, TINY_VARIANCE)) + 1))


def aicc(loglik: float, n: int, n_par: int) -> float:
    """AICc of a fit with log-likelihood `loglik` on n observations and n_par estimated parameters
    (innovation variance included); infinite when n - n_par - 1 <= 0 leaves the correction undefined."""
    denom = n - n_par - 1
    if denom <= 0:
        return float("inf")
    return float(-2 * loglik + 2 * n_par + 2 * n_par * (n_par + 1) / denom)
