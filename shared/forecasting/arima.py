"""Seasonal ARIMA of a fixed order: CSS and exact-likelihood fits, forecasts and psi-weight intervals.

The exact Gaussian likelihood of the differenced series uses the innovations algorithm compiled in
statsmodels (`statsmodels.tsa.innovations`, imported through `private_api`); the ARMA autocovariances it
needs are computed here, which is several times faster than statsmodels' general `arma_acovf`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from .base import Bounds, Forecaster, normal_bounds
from .criteria import aicc, gaussian_loglik
from .optim import minimize_squares
from .private_api import innovations

CSS_TOLERANCE = 1e-4  # CSS ranks orders and starts the ML fit: a loose stop is enough
ML_TOLERANCE = 1e-4  # relative change of the sum of squares / parameters ending the ML fit (bench/README.md)


def pacf_to_poly(r: np.ndarray) -> np.ndarray:
    """Coefficients phi of a stationary AR polynomial 1 - sum(phi_i B^i) from partial autocorrelations."""
    phi: list[float] = []
    for rk in np.asarray(r, dtype=float).tolist():  # Durbin-Levinson on Python floats: orders are tiny
        phi = [a - rk * b for a, b in zip(phi, reversed(phi), strict=True)] + [rk]
    return np.array(phi)


def lag_poly(coef: np.ndarray, step: int, sign: float) -> np.ndarray:
    """Lag polynomial [1, sign*c1 at lag step, sign*c2 at lag 2*step, ...]."""
    poly = np.zeros(len(coef) * step + 1)
    poly[0] = 1.0
    poly[step::step] = sign * np.asarray(coef)
    return poly


def diff_poly(d: int, big_d: int, m: int) -> np.ndarray:
    """Lag polynomial (1 - B)^d (1 - B^m)^D."""
    poly = np.array([1.0])
    for _ in range(d):
        poly = np.convolve(poly, [1.0, -1.0])
    for _ in range(big_d):
        poly = np.convolve(poly, lag_poly(np.array([1.0]), m, -1.0))
    return poly


class Order:
    """An ARIMA order (p, d, q)(P, D, Q)_m with or without a constant."""

    def __init__(self, p: int, d: int, q: int, sp: int, sd: int, sq: int, m: int, constant: bool) -> None:
        self.p, self.d, self.q, self.sp, self.sd, self.sq, self.m = p, d, q, sp, sd, sq, m
        self.constant = constant

    @classmethod
    def from_spec(cls, spec: dict) -> Order:
        p, d, q = spec["order"]
        sp, sd, sq, m = spec["seasonal_order"]
        return cls(p, d, q, sp, sd, sq, m, bool(spec.get("constant", False)))

    def key(self) -> tuple:
        return (self.p, self.d, self.q, self.sp, self.sd, self.sq, self.m, self.constant)

    @property
    def n_coef(self) -> int:
        return self.p + self.q + self.sp + self.sq + int(self.constant)

    @property
    def n_cond(self) -> int:
        return self.p + self.sp * self.m

    def polys(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """AR and MA lag polynomials and constant from unconstrained parameters."""
        r = np.tanh(theta[: self.n_coef - int(self.constant)])
        i = 0
        parts = []
        for n in (self.p, self.sp, self.q, self.sq):
            parts.append(pacf_to_poly(r[i : i + n]))
            i += n
        c = float(theta[i]) if self.constant else 0.0
        ar = lag_poly(parts[0], 1, -1.0)
        if self.sp:
            ar = np.convolve(ar, lag_poly(parts[1], self.m, -1.0))
        ma = lag_poly(parts[2], 1, -1.0)
        if self.sq:
            ma = np.convolve(ma, lag_poly(parts[3], self.m, -1.0))
        return ar, ma, c

    def split(self, theta: np.ndarray) -> dict:
        """Named coefficient lists from unconstrained parameters."""
        out, i = {}, 0
        for name, n in (("ar", self.p), ("sar", self.sp), ("ma", self.q), ("sma", self.sq)):
            coef = pacf_to_poly(np.tanh(theta[i : i + n]))
            out[name] = [float(v) if name in ("ar", "sar") else float(-v) for v in coef]
            i += n
        out["constant"] = float(theta[i]) if self.constant else 0.0
        return out


def _scaled(theta: np.ndarray, order: Order, scale: float, forward: bool = True) -> np.ndarray:
    """Map optimizer variables to parameters (the constant is optimized in units of the data's spread)."""
    if not order.constant:
        return theta
    out = np.array(theta, dtype=float)
    out[-1] = out[-1] * scale if forward else out[-1] / scale
    return out


def _clip(theta: np.ndarray, order: Order) -> np.ndarray:
    """Keep the transformed coefficients off the unit circle (|tanh| < 1 - 2e-7)."""
    out = np.array(theta, dtype=float)
    k = order.n_coef - int(order.constant)
    out[:k] = np.clip(out[:k], -8, 8)
    return out


def css_residuals(order: Order, theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Conditional residuals of the differenced series w, pre-sample innovations set to zero."""
    ar, ma, c = order.polys(theta)
    u = np.convolve(w - c, ar)[order.n_cond : len(w)]
    return lfilter([1.0], ma, u)


def default_starts(order: Order, w: np.ndarray) -> list[np.ndarray]:
    """Cold starts of the CSS fit: all coefficients zero, and a first AR (else MA) partial correlation of 0.5.

    ARMA sums of squares are often bimodal; the second start finds the other mode, and the lower sum of
    squares wins.
    """
    zero = np.zeros(order.n_coef)
    if order.constant:
        zero[-1] = float(np.mean(w))
    starts = [zero]
    if order.p or order.q:
        other = zero.copy()
        other[0 if order.p else order.sp + order.p] = np.arctanh(0.5) if order.p else np.arctanh(-0.5)
        starts.append(other)
    return starts


def _css_from(order: Order, w: np.ndarray, theta0: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    x = minimize_squares(
        lambda v: css_residuals(order, _scaled(v, order, scale), w) / scale,
        _scaled(theta0, order, scale, forward=False),
        tol=CSS_TOLERANCE,
        max_nfev=200 * order.n_coef,
    )
    theta = _clip(_scaled(x, order, scale), order)
    e = css_residuals(order, theta, w)
    return theta, float(np.mean(e**2))


def fit_css(
    order: Order, w: np.ndarray, start: np.ndarray | None = None, extra: list[np.ndarray] | None = None
) -> tuple[np.ndarray, float, int]:
    """Least-squares CSS estimate: unconstrained parameters, innovation variance and residual count.

    With no `start`, every cold start of `default_starts` and every `extra` start is tried and the lowest
    sum of squares kept.
    """
    k = order.n_coef
    n_eff = len(w) - order.n_cond
    if n_eff <= k + 1:
        raise ValueError(f"too few observations ({len(w)}) for ARIMA with {k} coefficients")
    starts = default_starts(order, w) + list(extra or []) if start is None else [np.asarray(start, dtype=float)]
    if k == 0:
        e = css_residuals(order, starts[0], w)
        return starts[0], float(np.mean(e**2)), n_eff
    scale = float(np.std(w)) or 1.0
    fits = [_css_from(order, w, theta0, scale) for theta0 in starts]
    theta, sigma2 = min(fits, key=lambda fit: fit[1])
    return theta, sigma2, n_eff


@lru_cache(maxsize=128)
def _acov_index(p: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions k * size + |k - j| (and the lag j) of the autocovariance equations, k < size, j <= p."""
    k = np.arange(size)[:, None]
    j = np.arange(p + 1)[None, :]
    return (k * size + np.abs(k - j)).ravel(), np.broadcast_to(j, (size, p + 1)).ravel()


def arma_acov(ar: np.ndarray, ma: np.ndarray, nlags: int) -> np.ndarray:
    """Autocovariances 0..nlags-1 of the ARMA process ar(B) x = ma(B) e with unit innovation variance.

    Solves sum_j ar_j gamma(|k - j|) = sum_{i >= k} ma_i psi_{i-k} for k = 0..nlags-1 in one linear system.
    """
    p, q = len(ar) - 1, len(ma) - 1
    size = max(nlags, p + 1)
    impulse = np.zeros(q + 1)
    impulse[0] = 1.0
    psi = lfilter(ma, ar, impulse)
    rhs = np.zeros(size)
    for k in range(min(q, size - 1) + 1):
        rhs[k] = ma[k:] @ psi[: q + 1 - k]
    flat, lag = _acov_index(p, size)
    a = np.bincount(flat, weights=ar[lag], minlength=size * size).reshape(size, size)
    return np.linalg.solve(a, rhs)[:nlags]


def exact_innovations(x: np.ndarray, ar: np.ndarray, ma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-step prediction errors u and their relative variances v of a zero-mean stationary ARMA."""
    n = len(x)
    p, q = len(ar) - 1, len(ma) - 1
    m = max(p, q)
    acov = np.zeros(n)
    k = min(2 * m + 1, n)
    acov[:k] = arma_acov(ar, ma, k)
    ar_params = np.asfortranarray(-ar[1:])
    ma_params = np.asfortranarray(ma[1:])
    acov1, acov2 = innovations.darma_transformed_acovf_fast(ar, ma, acov)
    theta, v = innovations.darma_innovations_algo_fast(n, ar_params, ma_params, acov1, acov2)
    u = innovations.darma_innovations_filter(np.asfortranarray(x), ar_params, ma_params, theta)
    return np.asarray(u), np.asarray(v)


def ml_residuals(order: Order, theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Residuals whose sum of squares is the exact concentrated -2 log-likelihood up to a monotone map.

    sum(z^2) = sum(u^2 / v) * geometric_mean(v): minimizing it maximizes the exact Gaussian likelihood.
    """
    ar, ma, c = order.polys(theta)
    try:
        u, v = exact_innovations(w - c, ar, ma)
    except (np.linalg.LinAlgError, ZeroDivisionError):  # parameters on the edge of the stationary region
        return np.full(len(w), 1e6)
    if (v <= 0).any() or not np.isfinite(u).all():
        return np.full(len(w), 1e6)
    return u / np.sqrt(v) * np.exp(0.5 * np.log(v).sum() / len(v))  # sum / n: mean's overhead, same value


def fit_ml(order: Order, w: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Exact maximum likelihood from a starting point (CSS): parameters, innovation variance, log-likelihood."""
    k = order.n_coef
    if len(w) - order.n_cond <= k + 1:
        raise ValueError(f"too few observations ({len(w)}) for ARIMA with {k} coefficients")
    theta = np.asarray(start, dtype=float)
    if k:
        scale = float(np.std(w)) or 1.0
        x = minimize_squares(
            lambda v: ml_residuals(order, _scaled(v, order, scale), w) / scale,
            _scaled(theta, order, scale, forward=False),
            tol=ML_TOLERANCE,
            max_nfev=100 * k,
        )
        theta = _clip(_scaled(x, order, scale), order)
    _, _, sigma2, loglik = exact_loglik(order, theta, w)
    return theta, sigma2, loglik


def exact_loglik(order: Order, theta: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Exact Gaussian log-likelihood of the differenced series w at theta, innovation variance concentrated out.

    Returns the one-step errors, their relative variances, the innovation variance and the log-likelihood
    (equal to statsmodels' `ARIMA(...).loglike` at the same parameters; see `verification.verify`).
    """
    ar, ma, c = order.polys(theta)
    u, v = exact_innovations(w - c, ar, ma)
    if np.any(v <= 0):
        raise ValueError("ARIMA estimate on the edge of the stationary region")
    sigma2 = float(np.mean(u**2 / v))
    loglik = gaussian_loglik(sigma2, len(w)) - 0.5 * float(np.sum(np.log(v)))
    return u, v, sigma2, loglik


class ArimaFit(Forecaster):
    """Fitted ARIMA: full AR/MA polynomials, the tail of the data and of the residuals."""

    def __init__(self, spec: dict, params: dict, state: dict, last_date, freq: str) -> None:
        super().__init__(spec, params, last_date, freq)
        self.state = state

    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        s = self.state
        ar, ma, c, delta = s["ar"], s["ma"], s["c"], s["delta"]
        pa, qa, nd = len(ar) - 1, len(ma) - 1, len(delta) - 1
        w = np.concatenate([s["w_tail"], np.zeros(h)])
        e = np.concatenate([s["e_tail"], np.zeros(h)])
        y = np.concatenate([s["y_tail"], np.zeros(h)])
        off_w, off_e, off_y = len(s["w_tail"]), len(s["e_tail"]), len(s["y_tail"])
        for t in range(h):
            tw, te, ty = off_w + t, off_e + t, off_y + t
            value = c
            for i in range(1, pa + 1):
                value -= ar[i] * (w[tw - i] - c)
            for j in range(1, qa + 1):
                value += ma[j] * e[te - j]
            w[tw] = value
            level = value
            for i in range(1, nd + 1):
                level -= delta[i] * y[ty - i]
            y[ty] = level
        mean = y[off_y:]
        impulse = np.zeros(h)
        impulse[0] = 1.0
        psi = lfilter(ma, np.convolve(ar, delta), impulse)
        sd = np.sqrt(s["sigma2"] * np.cumsum(psi**2))
        return mean, normal_bounds(mean, sd, levels)


class Arima:
    """Seasonal ARIMA of the order in the spec: exact maximum likelihood from a CSS start ("ml", default),
    or conditional sum of squares only ("css")."""

    name = "arima"

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def fit(
        self,
        y: pd.Series,
        start: np.ndarray | None = None,
        estimate: np.ndarray | None = None,
        previous: Forecaster | None = None,
    ) -> ArimaFit:
        """Estimate on y: CSS from `start` or from the cold starts, then ML from there; with `previous` (this
        spec fitted on a prefix of y, as in rolling-origin backtests) ML starts from its estimate directly.
        `estimate` skips estimation entirely."""
        extra = [np.asarray(previous.params["theta"], dtype=float)] if previous is not None else []
        order = Order.from_spec(self.spec)
        values = y.to_numpy(dtype=float)
        delta = diff_poly(order.d, order.sd, order.m)
        nd = len(delta) - 1
        w = np.convolve(values, delta)[nd : len(values)]
        ml = self.spec.get("method", "ml") == "ml"
        if estimate is not None:
            theta = np.asarray(estimate, dtype=float)
        elif ml and extra and start is None:
            # A prefix's ML estimate is a start within a few steps of this optimum: the CSS pass is skipped.
            theta = fit_ml(order, w, extra[0])[0]
        else:
            theta = fit_css(order, w, start, extra)[0]
            if ml:
                theta = fit_ml(order, w, theta)[0]
        ar, ma, c = order.polys(theta)
        if ml:
            e, _, sigma2, loglik = exact_loglik(order, theta, w)
            score = aicc(loglik, len(w), order.n_coef + 1)
        else:
            e = css_residuals(order, theta, w)
            sigma2 = float(np.mean(e**2))
            score = aicc(gaussian_loglik(sigma2, len(e)), len(e), order.n_coef + 1)
        pa, qa = len(ar) - 1, len(ma) - 1
        e_tail = e[len(e) - qa :] if 0 < qa <= len(e) else np.concatenate([np.zeros(max(qa - len(e), 0)), e])[-qa:]
        state = {
            "ar": ar,
            "ma": ma,
            "c": c,
            "delta": delta,
            "sigma2": sigma2,
            "w_tail": w[len(w) - pa :] if pa else w[:0],
            "e_tail": e_tail if qa else e[:0],
            "y_tail": values[len(values) - nd :] if nd else values[:0],
        }
        params = {**order.split(theta), "sigma2": sigma2, "aicc": score, "theta": [float(v) for v in theta]}
        spec = {**self.spec, "name": self.name}
        return ArimaFit(spec, params, state, y.index[-1], spec["freq"])
