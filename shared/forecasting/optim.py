"""Least squares with a lean forward-difference Jacobian (scipy's generic one costs more than our models).

Fits run MINPACK's Levenberg-Marquardt (`lmder`, through `scipy.optimize.leastsq`), which keeps its
bookkeeping in compiled code. A bounded problem is solved on the logistic scale of its finitely bounded
coordinates, x = lower + (upper - lower) * expit(z), so the solver never leaves the box; on that scale a
coordinate whose optimum is on a bound is only approached, so a solution that ends next to a bound is
finished by scipy's trust-region reflective method (`least_squares`, "trf"), which lands on bounds.
Both choices were made on the likelihood the fits reach (bench/README.md, "Where the time goes").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import least_squares, leastsq
from scipy.special import expit, logit

STEP = 1e-6  # relative forward-difference step
LM_GTOL = 1e-8  # gradient tolerance (least_squares' default for its "lm" method)
LM_FACTOR = 100.0  # MINPACK's initial step bound, as a multiple of the scaled start (its default)
BOUNDED_FACTOR = 0.1  # the same on the logistic scale: short first steps, so no coordinate saturates at once
INTERIOR = 1e-6  # a start on a bound begins this share of the interval inside it
EDGE = 1e-3  # a bounded coordinate ending within this share of a bound is finished by trust-region reflective


class _Cached:
    """Residual function that remembers its last evaluation (reused as the base point of the Jacobian) and
    its last Jacobian (MINPACK asks for the one at the start twice through `leastsq`). With `upper`, a
    difference step that would cross the upper bound is taken downwards instead."""

    def __init__(self, fun: Callable[[np.ndarray], np.ndarray], upper: np.ndarray | None = None) -> None:
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


class _Box:
    """The map between a bounded problem's x and the solver's unbounded z (logistic on finite bounds)."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        if (upper <= lower).any():
            raise ValueError("each lower bound must be below its upper bound")
        if (np.isfinite(lower) != np.isfinite(upper)).any():
            raise ValueError("a coordinate must be bounded on both sides or on neither")
        self.finite = np.isfinite(lower) & np.isfinite(upper)
        self.lower = np.where(self.finite, lower, 0.0)
        self.span = np.where(self.finite, upper - lower, 1.0)

    def to_x(self, z: np.ndarray) -> np.ndarray:
        return np.where(self.finite, self.lower + self.span * expit(z), z)

    def to_z(self, x: np.ndarray) -> np.ndarray:
        share = np.clip((x - self.lower) / self.span, INTERIOR, 1 - INTERIOR)
        return np.where(self.finite, logit(share), x)

    def at_edge(self, x: np.ndarray) -> bool:
        share = (x - self.lower) / self.span
        return bool((self.finite & ((share < EDGE) | (share > 1 - EDGE))).any())


def _lmder(cached: _Cached, z0: np.ndarray, tol: float, max_nfev: int | None, factor: float) -> np.ndarray:
    if not np.isfinite(cached(z0)).all():
        raise ValueError("Residuals are not finite in the initial point.")
    z, *_ = leastsq(
        cached, z0, Dfun=cached.jac, full_output=True, ftol=tol, xtol=tol, gtol=LM_GTOL,
        maxfev=max_nfev or 100 * z0.size, factor=factor,
    )  # fmt: skip
    return z


def minimize_squares(
    fun: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    tol: float = 1e-6,
    max_nfev: int | None = None,
) -> np.ndarray:
    """Minimize sum(fun(x)^2) by Levenberg-Marquardt, within `bounds` (lower, upper) if given.

    Each coordinate of `bounds` is bounded on both sides or on neither (-inf, inf).

    `tol` is the relative change of the sum of squares and of the parameters at which a fit stops;
    `max_nfev` caps the residual evaluations outside the Jacobian (default 100 per parameter).
    """
    x0 = np.asarray(x0, dtype=float)
    if bounds is None:
        return _lmder(_Cached(fun), x0, tol, max_nfev, LM_FACTOR)
    lower, upper = np.asarray(bounds[0], dtype=float), np.asarray(bounds[1], dtype=float)
    box = _Box(lower, upper)
    x = box.to_x(_lmder(_Cached(lambda z: fun(box.to_x(z))), box.to_z(x0), tol, max_nfev, BOUNDED_FACTOR))
    if not box.at_edge(x):
        return x
    cached = _Cached(fun, upper)
    start = np.clip(x, lower, upper)
    return least_squares(
        cached, start, jac=cached.jac, bounds=(lower, upper), method="trf", ftol=tol, xtol=tol, max_nfev=max_nfev
    ).x
