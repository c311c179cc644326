"""Theta family (Fiorucci et al. 2016): standard, optimized, dynamic standard and dynamic optimized theta,
fitted on the classically deseasonalized series; `auto_theta` keeps the variant with the lower in-sample MSE.

State-space form (t = 1..n, x the deseasonalized series): the one-step forecast is
mu_t = l_{t-1} + (1 - 1/theta) (A (1-alpha)^(t-1) + B (1 - (1-alpha)^t) / alpha) and l_t = alpha x_t +
(1 - alpha) l_{t-1}, where A + B t is the least-squares line of the data: over the whole series for the
static methods, over x_1..x_{t-1} (updated recursively) for the dynamic ones. Given alpha, the one-step
errors are linear in the initial level l_0 and in c = 1 - 1/theta, so both are solved by least squares and
only alpha is searched. The standard methods fix theta = 2 (c = 1/2), the optimized ones estimate
theta >= 1 (c in [0, 1)). Forecasts run the same recursion with the forecasts as data; every step is linear
in the future innovations, so the forecast variance follows exactly from their impulse responses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.signal import lfilter

from .base import Bounds, Forecaster, normal_bounds
from .frequency import season_length

SEASONALITY_Z = 1.645  # 90% one-sided threshold of the classical Theta seasonality test on the lag-m ACF
METHODS = ("stm", "otm", "dstm", "dotm")  # standard, optimized, dynamic standard, dynamic optimized
# The automatic choice compares in-sample MSE, like statsforecast's AutoTheta; an optimized method nests its
# standard one (theta = 2 is inside theta >= 1), so only the two optimized methods can win and are fitted.
AUTO_METHODS = ("otm", "dotm")
DYNAMIC = frozenset({"dstm", "dotm"})
OPTIMIZED = frozenset({"otm", "dotm"})
STANDARD_C = 0.5  # theta = 2: half the trend of the line, the original Theta method
MAX_C = 1 - 1e-6  # theta <= 1e6 (theta >= 1 means c >= 0)
ALPHA_BOUNDS = (0.1, 0.99)  # the smoothing weight's range in Fiorucci et al. and in statsforecast
ALPHA_GRID = np.linspace(*ALPHA_BOUNDS, 12)  # coarse scan before the bounded search around its best point
ALPHA_TOL = 1e-3  # the in-sample MSE is flat near its minimum: a finer alpha changes no forecast materially
SKIP = 3  # the first one-step errors are left out of the fit (the dynamic line rests on 1-3 points there)
MIN_OBSERVATIONS = SKIP + 3


def is_seasonal(x: np.ndarray, m: int) -> bool:
    """Classical Theta test: lag-m autocorrelation beyond 1.645 of its Bartlett standard error."""
    n = len(x)
    if m <= 1 or n < 3 * m:
        return False
    e = x - x.mean()
    denom = float(e @ e)
    if denom <= 0:
        return False
    acf = np.array([float(e[k:] @ e[:-k]) / denom for k in range(1, m + 1)])
    limit = SEASONALITY_Z * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    return bool(abs(acf[-1]) > limit)


def seasonal_indices(x: np.ndarray, m: int, multiplicative: bool) -> np.ndarray:
    """Classical decomposition indices per season position (position 0 is the first observation)."""
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(x, weights, mode="valid")
    start = (len(weights) - 1) // 2
    core = x[start : start + len(trend)]
    detr = core / trend if multiplicative else core - trend
    pos = (np.arange(len(trend)) + start) % m
    idx = np.array([detr[pos == k].mean() for k in range(m)])
    if multiplicative:
        return idx / idx.mean()
    return idx - idx.mean()


def static_line(x: np.ndarray) -> tuple[float, float]:
    """Intercept A (at t = 0) and slope B of the least-squares line of x on t = 1..n."""
    n = len(x)
    t = np.arange(1, n + 1)
    b = float((t - t.mean()) @ (x - x.mean()) / ((t - t.mean()) @ (t - t.mean()))) if n > 1 else 0.0
    return float(x.mean() - b * (n + 1) / 2), b


def line_step(i: int, y, mean, b) -> tuple:
    """Recursive least-squares line after observation y at 0-based position i >= 1: (mean, A, B); y, mean
    and b are floats, or arrays of several paths updated at once (`theta_paths`)."""
    new_mean = (i * mean + y) / (i + 1)
    new_b = ((i - 1) * b + 6 * (y - mean) / (i + 1)) / (i + 2)
    return new_mean, new_mean - new_b * (i + 2) / 2, new_b


def trend_term(a, b, decay, alpha: float):
    """The trend part of the one-step forecast, to be multiplied by c = 1 - 1/theta: A (1-alpha)^(t-1) +
    B (1 - (1-alpha)^t) / alpha, with `decay` = (1-alpha)^(t-1) (scalars or arrays)."""
    return a * decay + b * (1 - decay * (1 - alpha)) / alpha


def dynamic_lines(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares line (A_i, B_i) of x_0..x_i for every 0-based i, and the running means."""
    n = len(x)
    a, b, mean = np.empty(n), np.empty(n), np.empty(n)
    a[0], b[0], mean[0] = x[0], 0.0, x[0]
    for i in range(1, n):
        mean[i], a[i], b[i] = line_step(i, float(x[i]), float(mean[i - 1]), float(b[i - 1]))
    return a, b, mean


class ThetaCore:
    """The one-step errors of one theta method on a deseasonalized series, for any alpha."""

    def __init__(self, x: np.ndarray, method: str) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown theta method {method!r}; known: {list(METHODS)}")
        self.x, self.method, self.n = x, method, len(x)
        self.i = np.arange(self.n)
        if method in DYNAMIC:
            a, b, means = dynamic_lines(x)
            self.a = np.r_[x[0], a[:-1]]  # the line known before each observation
            self.b = np.r_[0.0, b[:-1]]
            self.end = (float(a[-1]), float(b[-1]), float(means[-1]))
        else:
            a0, b0 = static_line(x)
            self.a, self.b = np.full(self.n, a0), np.full(self.n, b0)
            self.end = (a0, b0, float(np.mean(x)))

    def terms(self, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x minus the SES part started from zero, the initial level's weights, the trend term D) per t."""
        ses = lfilter([alpha], [1.0, alpha - 1.0], self.x)
        decay = (1 - alpha) ** self.i
        r = self.x - np.r_[0.0, ses[:-1]]
        return r, decay, trend_term(self.a, self.b, decay, alpha)

    def solve(self, alpha: float) -> tuple[float, float, float]:
        """(sse, l0, c) at this alpha, l0 and c by least squares over the counted errors (c within its range)."""
        r, p, d = (v[SKIP:] for v in self.terms(alpha))
        if self.method not in OPTIMIZED:
            c = STANDARD_C
        else:
            pp, pd_, dd, pr, dr = p @ p, p @ d, d @ d, p @ r, d @ r
            det = pp * dd - pd_ * pd_
            c = (pp * dr - pd_ * pr) / det if det > 1e-12 * pp * dd else 0.0
            c = min(max(c, 0.0), MAX_C)
        l0 = _ls1(r - c * d, p)
        e = r - l0 * p - c * d
        return float(e @ e), l0, c

    def fit(self) -> dict:
        """Alpha by a grid scan and a bounded search around its best point; the fitted parameters."""
        sse = [self.solve(a)[0] for a in ALPHA_GRID]
        k = int(np.argmin(sse))
        lo, hi = ALPHA_GRID[max(k - 1, 0)], ALPHA_GRID[min(k + 1, len(ALPHA_GRID) - 1)]
        res = minimize_scalar(
            lambda a: self.solve(a)[0], bounds=(lo, hi), method="bounded", options={"xatol": ALPHA_TOL}
        )
        alpha = float(res.x) if res.fun <= sse[k] else float(ALPHA_GRID[k])
        total, l0, c = self.solve(alpha)
        sigma2 = total / (self.n - SKIP)
        level = float(lfilter([alpha], [1.0, alpha - 1.0], self.x, zi=[(1 - alpha) * l0])[0][-1])
        a_end, b_end, mean_end = self.end
        return {
            "method": self.method,
            "alpha": alpha,
            "theta": 1 / (1 - c),
            "l0": l0,
            "level": level,
            "intercept": a_end,
            "slope": b_end,
            "mean_x": mean_end,
            "n": self.n,
            "sigma2": sigma2,
        }


def _ls1(r: np.ndarray, p: np.ndarray) -> float:
    """Least-squares coefficient of r on one column p (0 when p carries no information)."""
    pp = float(p @ p)
    return float(p @ r) / pp if pp > 1e-300 else 0.0


def theta_paths(params: dict, h: int) -> np.ndarray:
    """Forecast paths (h + 1 by h): row 0 the mean, row j + 1 the mean plus a unit innovation at step j.

    The recursion is linear in the innovations, so row j + 1 minus row 0 is the impulse response of step j.
    """
    alpha, c, n = params["alpha"], 1 - 1 / params["theta"], params["n"]
    dynamic = params["method"] in DYNAMIC
    shocks = np.vstack([np.zeros(h), np.eye(h)])
    level = np.full(h + 1, params["level"])
    a = np.full(h + 1, params["intercept"])
    b = np.full(h + 1, params["slope"])
    mean = np.full(h + 1, params["mean_x"])
    out = np.empty((h + 1, h))
    for j in range(h):
        i = n + j
        decay = (1 - alpha) ** i
        y = level + c * trend_term(a, b, decay, alpha) + shocks[:, j]
        out[:, j] = y
        level = alpha * y + (1 - alpha) * level
        if dynamic:
            mean, a, b = line_step(i, y, mean, b)
    return out


class ThetaFit(Forecaster):
    """Fitted theta method: its final states, smoothing weight, theta and seasonal indices."""

    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        p = self.params
        paths = theta_paths(p, h)
        mean = paths[0]
        response = paths[1:] - mean
        sd = np.sqrt(p["sigma2"] * np.sum(response**2, axis=0))
        bounds = normal_bounds(mean, sd, levels)
        season = np.asarray(p["season"])
        if len(season) > 1:
            factor = season[(p["n"] + np.arange(h)) % len(season)]
            if p["multiplicative"]:
                mean = mean * factor
                bounds = {k: (lo * factor, hi * factor) for k, (lo, hi) in bounds.items()}
            else:
                mean = mean + factor
                bounds = {k: (lo + factor, hi + factor) for k, (lo, hi) in bounds.items()}
        return mean, bounds


def deseasonalized(x: np.ndarray, m: int, deseason) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    """(adjusted series, seasonal indices, seasonal?, multiplicative?) for the spec's `deseasonalize`."""
    n = len(x)
    seasonal = is_seasonal(x, m) if deseason == "auto" else bool(deseason) and n >= 2 * m and m > 1
    multiplicative = bool(np.all(x > 0))
    if not seasonal:
        return x, np.zeros(1), False, multiplicative
    season = seasonal_indices(x, m, multiplicative)
    factor = season[np.arange(n) % m]
    return (x / factor if multiplicative else x - factor), season, True, multiplicative


class Theta:
    """One theta method (`spec["method"]`, default the standard one), on the deseasonalized series when the
    lag-m autocorrelation test says the data are seasonal (or as `spec["deseasonalize"]` fixes it)."""

    name = "theta"

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def fit(self, y: pd.Series, previous: Forecaster | None = None) -> ThetaFit:
        """Fit on y (`previous`, a fit on a prefix of y, is not needed by this model)."""
        return fit_methods(y, self.spec, [self.spec.get("method", "stm")])


def fit_methods(y: pd.Series, spec: dict, methods: list[str]) -> ThetaFit:
    """The best of `methods` by in-sample MSE, each fitted on the same deseasonalized series."""
    x = y.to_numpy(dtype=float)
    n = len(x)
    if n < MIN_OBSERVATIONS:
        raise ValueError(f"Theta needs at least {MIN_OBSERVATIONS} observations, got {n}")
    if not np.all(np.isfinite(x)):
        raise ValueError("Theta needs finite values")
    m = int(spec.get("period") or season_length(spec["freq"]))
    adjusted, season, seasonal, multiplicative = deseasonalized(x, m, spec.get("deseasonalize", "auto"))
    fits = [ThetaCore(adjusted, method).fit() for method in methods]
    finite = [f for f in fits if math.isfinite(f["sigma2"])]
    if not finite:
        raise ValueError("no theta method could be fitted (non-finite errors)")
    best = min(finite, key=lambda f: f["sigma2"])
    params = {
        **best,
        "multiplicative": multiplicative,
        "season": [float(v) for v in season],
        "compared": {f["method"]: f["sigma2"] for f in fits},
    }
    out = {**spec, "name": Theta.name, "period": m, "deseasonalize": seasonal, "method": best["method"]}
    return ThetaFit(out, params, y.index[-1], out["freq"])


def auto_theta(y: pd.Series, freq: str) -> tuple[dict, ThetaFit]:
    """Spec and fit of the theta method with the lower in-sample MSE among AUTO_METHODS."""
    fit = fit_methods(y, {"name": Theta.name, "freq": freq, "deseasonalize": "auto"}, list(AUTO_METHODS))
    return fit.spec, fit
