"""Least squares with a lean forward-difference Jacobian (scipy's generic one costs more than our models)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import least_squares

STEP = 1e-6  # relative forward-difference step


class _Cached:
    """Residual function that remembers its last evaluation, reused as the base point of the Jacobian."""

    def __init__(self, fun: Callable[[np.ndarray], np.ndarray], upper: np.ndarray | None) -> None:
        self.fun = fun
        self.upper = upper
        self.x: np.ndarray | None = None
        self.f: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.x is None or x.shape != self.x.shape or not (x == self.x).all():
            self.x, self.f = np.array(x, dtype=float), self.fun(x)
        return self.f

    def jac(self, x: np.ndarray) -> np.ndarray:
        f0 = self(x)
        h = STEP * np.maximum(1.0, np.abs(x))
        if self.upper is not None:
            h = np.where(x + h > self.upper, -h, h)
        out = np.empty((len(f0), len(x)))
        for i in range(len(x)):
            step = x.copy()
            step[i] += h[i]
            out[:, i] = (self.fun(step) - f0) / h[i]
        return out


def minimize_squares(
    fun: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    tol: float = 1e-6,
    max_nfev: int | None = None,
) -> np.ndarray:
    """Minimize sum(fun(x)^2): Levenberg-Marquardt without bounds, trust-region reflective with bounds."""
    cached = _Cached(fun, None if bounds is None else np.asarray(bounds[1], dtype=float))
    if bounds is None:
        sol = least_squares(cached, x0, jac=cached.jac, method="lm", ftol=tol, xtol=tol, max_nfev=max_nfev)
    else:
        sol = least_squares(
            cached, x0, jac=cached.jac, bounds=bounds, method="trf", ftol=tol, xtol=tol, max_nfev=max_nfev
        )
    return sol.x
