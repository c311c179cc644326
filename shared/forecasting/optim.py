"""Least squares with a lean forward-difference Jacobian (scipy's generic one costs more than our models)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import least_squares, leastsq

STEP = 1e-6  # relative forward-difference step
LM_GTOL = 1e-8  # least_squares' default gradient tolerance, kept for the unbounded (MINPACK) path


class _Cached:
    """Residual function that remembers its last evaluation (reused as the base point of the Jacobian) and
    its last Jacobian (MINPACK asks for the one at the start twice through `leastsq`)."""

    def __init__(self, fun: Callable[[np.ndarray], np.ndarray], upper: np.ndarray | None) -> None:
        self.fun = fun
        self.upper = upper
        self.x: np.ndarray | None = None
        self.f: np.ndarray | None = None
        self.jac_x: np.ndarray | None = None
        self.jac_value: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.x is None or x.shape != self.x.shape or not (x == self.x).all():
            self.x, self.f = np.array(x, dtype=float), self.fun(x)
        return self.f

    def jac(self, x: np.ndarray) -> np.ndarray:
        if self.jac_x is not None and x.shape == self.jac_x.shape and (x == self.jac_x).all():
            return self.jac_value.copy()
        f0 = self(x)
        h = STEP * np.maximum(1.0, np.abs(x))
        if self.upper is not None:
            h = np.where(x + h > self.upper, -h, h)
        out = np.empty((len(f0), len(x)))
        for i in range(len(x)):
            step = x.copy()
            step[i] += h[i]
            out[:, i] = (self.fun(step) - f0) / h[i]
        self.jac_x, self.jac_value = np.array(x, dtype=float), out.copy()
        return out


def minimize_squares(
    fun: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    tol: float = 1e-6,
    max_nfev: int | None = None,
) -> np.ndarray:
    """Minimize sum(fun(x)^2): Levenberg-Marquardt without bounds, trust-region reflective with bounds.

    Without bounds MINPACK's lmder is called through `leastsq`, with the settings `least_squares(method="lm")`
    gives it (same iterates), without the wrapper's setup and its final Jacobian at the solution.
    """
    cached = _Cached(fun, None if bounds is None else np.asarray(bounds[1], dtype=float))
    if bounds is None:
        x0 = np.asarray(x0, dtype=float)
        if not np.isfinite(cached(x0)).all():
            raise ValueError("Residuals are not finite in the initial point.")
        x, *_ = leastsq(
            cached, x0, Dfun=cached.jac, full_output=True, ftol=tol, xtol=tol, gtol=LM_GTOL,
            maxfev=max_nfev or 100 * x0.size,
        )  # fmt: skip
        return x
    sol = least_squares(cached, x0, jac=cached.jac, bounds=bounds, method="trf", ftol=tol, xtol=tol, max_nfev=max_nfev)
    return sol.x
