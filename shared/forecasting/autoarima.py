"""Automatic ARIMA order selection in the spirit of Hyndman–Khandakar: unit-root tests, stepwise AICc."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from statsmodels.tsa.seasonal import STL

from .arima import Arima, ArimaFit, Order, diff_poly, fit_css, fit_ml
from .criteria import aicc, gaussian_loglik
from .frequency import season_length

logger = logging.getLogger(__name__)

KPSS_CRITICAL_5PCT = 0.463  # level-stationarity KPSS critical value at 5% (Kwiatkowski et al. 1992)
SEASONAL_STRENGTH_THRESHOLD = 0.64  # seasonal differencing when STL seasonal strength exceeds this
MAX_P, MAX_Q, MAX_SP, MAX_SQ, MAX_ORDER = 5, 5, 2, 2, 5
MAX_MODELS = 94
MIN_ROOT_MODULUS = 1.01  # reject fits with AR or MA roots this close to the unit circle
REFINE_TOP = 3  # orders refitted by exact maximum likelihood after the CSS-ranked stepwise search
EXACT_SEARCH_MAX = 60  # differenced series up to this length are searched by exact-likelihood AICc directly


def kpss_stat(x: np.ndarray) -> float:
    """KPSS level-stationarity statistic with Bartlett bandwidth trunc(3 sqrt(n) / 13) (Hobijn et al. 1998,
    the bandwidth of R's forecast::ndiffs)."""
    n = len(x)
    e = x - x.mean()
    s = np.cumsum(e)
    lags = int(3 * np.sqrt(n) / 13)
    lrv = float(e @ e) / n
    for k in range(1, lags + 1):
        lrv += 2 * (1 - k / (lags + 1)) * float(e[k:] @ e[:-k]) / n
    if lrv <= 0:
        return 0.0
    return float(s @ s) / n**2 / lrv


def ndiffs(x: np.ndarray, max_d: int = 2) -> int:
    """Number of first differences until the KPSS test no longer rejects level stationarity at 5%."""
    d = 0
    while d < max_d and len(x) > 3 and np.ptp(x) > 0 and kpss_stat(x) > KPSS_CRITICAL_5PCT:
        x = np.diff(x)
        d += 1
    return d


def seasonal_strength(x: np.ndarray, m: int) -> float:
    """STL seasonal strength max(0, 1 - Var(R) / Var(S + R)) (Wang, Smith & Hyndman 2006)."""
    res = STL(x, period=m, robust=False).fit()
    detrended = res.seasonal + res.resid
    var = float(np.var(detrended))
    if var <= 0:
        return 0.0
    return max(0.0, 1 - float(np.var(res.resid)) / var)


def nsdiffs(x: np.ndarray, m: int) -> tuple[int, float]:
    """Seasonal differences (0 or 1) by seasonal strength, and the strength itself."""
    if m <= 1 or len(x) < 2 * m + 1 or np.ptp(x) == 0:
        return 0, 0.0
    strength = seasonal_strength(x, m)
    return int(strength > SEASONAL_STRENGTH_THRESHOLD), strength


def roots_ok(poly: np.ndarray) -> bool:
    """True if every root of the lag polynomial lies outside the circle of radius MIN_ROOT_MODULUS."""
    trimmed = np.trim_zeros(poly, "b")
    if len(trimmed) <= 1:
        return True
    return bool(np.all(np.abs(np.roots(trimmed[::-1])) >= MIN_ROOT_MODULUS))


def _warm_start(order: Order, prev: Order | None, theta: np.ndarray | None) -> np.ndarray | None:
    """Start values for `order` from a neighbouring fit: shared partial autocorrelations kept, new ones 0."""
    if prev is None or theta is None:
        return None
    blocks, i = [], 0
    for n_prev, n_new in ((prev.p, order.p), (prev.sp, order.sp), (prev.q, order.q), (prev.sq, order.sq)):
        block = theta[i : i + n_prev]
        i += n_prev
        blocks.append(np.concatenate([block[:n_new], np.zeros(max(0, n_new - n_prev))]))
    if order.constant:
        blocks.append(theta[i : i + 1] if prev.constant else np.zeros(1))
    return np.concatenate(blocks) if blocks else np.zeros(0)


class _Search:
    """Memoized fits of candidate orders on one differenced series: CSS AICc, or exact ML AICc for short
    series (len(w) <= EXACT_SEARCH_MAX), where CSS misranks orders and ML is cheap anyway."""

    def __init__(self, w: np.ndarray) -> None:
        self.w = w
        self.exact = len(w) <= EXACT_SEARCH_MAX
        self.fits: dict[tuple, tuple[float, np.ndarray | None]] = {}
        self.orders: dict[tuple, Order] = {}

    def score(self, order: Order, prev: Order | None = None) -> float:
        key = order.key()
        if key in self.fits:
            return self.fits[key][0]
        start = _warm_start(order, prev, self.fits.get(prev.key(), (0, None))[1] if prev else None)
        try:
            theta, sigma2, n_eff = fit_css(order, self.w, start)
            value = aicc(gaussian_loglik(sigma2, n_eff), n_eff, order.n_coef + 1)
            if self.exact:
                theta, _, loglik = fit_ml(order, self.w, theta)
                value = aicc(loglik, len(self.w), order.n_coef + 1)
            ar, ma, _ = order.polys(theta)
            value = value if roots_ok(ar) and roots_ok(ma) else float("inf")
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            logger.debug("ARIMA order %s not fitted: %s", key, exc)
            theta, value = None, float("inf")
        self.fits[key] = (value, theta)
        self.orders[key] = order
        return value

    def refine(self, best: Order, best_score: float) -> tuple[Order, float, np.ndarray | None]:
        """Refit the REFINE_TOP orders with the lowest CSS AICc by exact likelihood; lowest exact AICc wins.

        Returns the order, its AICc and its ML estimate (None if no refit succeeded: CSS AICc then).
        """
        if self.exact:
            return best, best_score, self.fits[best.key()][1] if best.key() in self.fits else None
        ranked = sorted((v, k) for k, (v, t) in self.fits.items() if np.isfinite(v) and t is not None)
        chosen, chosen_score, chosen_theta = best, float("inf"), None
        for _, key in ranked[:REFINE_TOP]:
            order = self.orders[key]
            try:
                theta, _, loglik = fit_ml(order, self.w, self.fits[key][1])
                ar, ma, _ = order.polys(theta)
                if not (roots_ok(ar) and roots_ok(ma)):
                    continue
                score = aicc(loglik, len(self.w), order.n_coef + 1)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
                logger.debug("ARIMA order %s not refitted: %s", key, exc)
                continue
            if score < chosen_score:
                chosen, chosen_score, chosen_theta = order, score, theta
        return (chosen, chosen_score, chosen_theta) if np.isfinite(chosen_score) else (best, best_score, None)


def _neighbours(o: Order, allow_constant: bool, seasonal: bool):
    """Stepwise moves of Hyndman–Khandakar: single and paired changes of p, q, P, Q and the constant."""
    moves = [(0, 0, 1, 0), (0, 0, -1, 0), (0, 0, 0, 1), (0, 0, 0, -1), (0, 0, 1, 1), (0, 0, -1, -1)]
    moves = [(1, 0, 0, 0), (-1, 0, 0, 0), (0, 1, 0, 0), (0, -1, 0, 0), (1, 1, 0, 0), (-1, -1, 0, 0)] + (
        moves if seasonal else []
    )
    for dp, dq, dsp, dsq in moves:
        p, q, sp, sq = o.p + dp, o.q + dq, o.sp + dsp, o.sq + dsq
        in_range = 0 <= p <= MAX_P and 0 <= q <= MAX_Q and 0 <= sp <= MAX_SP and 0 <= sq <= MAX_SQ
        if in_range and p + q + sp + sq <= MAX_ORDER:
            yield Order(p, o.d, q, sp, o.sd, sq, o.m, o.constant)
    if allow_constant:
        yield Order(o.p, o.d, o.q, o.sp, o.sd, o.sq, o.m, not o.constant)


def auto_arima_spec(y: pd.Series, freq: str, seasonal: bool = True) -> dict:
    """Spec of `auto_arima` (the chosen order), without its fitted model."""
    return auto_arima(y, freq, seasonal)[0]


def auto_arima(y: pd.Series, freq: str, seasonal: bool = True) -> tuple[dict, ArimaFit]:
    """Choose d by KPSS, D by seasonal strength, (p, q, P, Q, constant) by stepwise CSS AICc, then the best
    of the top few by exact-likelihood AICc; returns the spec and the model fitted on all of y."""
    x = y.to_numpy(dtype=float)
    m = season_length(freq) if seasonal else 1
    if m > 1 and len(x) < 2 * m + 2:
        m = 1
    big_d, strength = nsdiffs(x, m)
    xs = np.convolve(x, diff_poly(0, big_d, m))[m * big_d : len(x)] if big_d else x
    d = ndiffs(xs, max_d=2 if big_d == 0 else 1)
    w = np.convolve(x, diff_poly(d, big_d, m))[d + m * big_d : len(x)]
    allow_constant = d + big_d <= 1
    seasonal_terms = m > 1 and len(w) > 2 * m
    search = _Search(w)
    sp0, sq0 = (1, 1) if seasonal_terms else (0, 0)
    starts = [Order(2, d, 2, sp0, big_d, sq0, m, allow_constant), Order(0, d, 0, 0, big_d, 0, m, allow_constant)]
    starts += [Order(1, d, 0, sp0, big_d, 0, m, allow_constant), Order(0, d, 1, 0, big_d, sq0, m, allow_constant)]
    if allow_constant:
        starts.append(Order(0, d, 0, 0, big_d, 0, m, False))
    best, best_score = None, float("inf")
    for order in starts:
        score = search.score(order)
        if score < best_score:
            best, best_score = order, score
    if best is None:
        best = Order(0, d, 0, 0, big_d, 0, m, allow_constant)
    improved = True
    while improved and len(search.fits) < MAX_MODELS:
        improved = False
        for cand in _neighbours(best, allow_constant, seasonal_terms):
            score = search.score(cand, best)
            if score < best_score:
                best, best_score = cand, score
                improved = True
                break
    best, best_score, theta = search.refine(best, best_score)
    spec = {
        "name": Arima.name,
        "freq": freq,
        "order": [best.p, best.d, best.q],
        "seasonal_order": [best.sp, best.sd, best.sq, best.m],
        "constant": best.constant,
        "method": "ml",
        "search": {
            "aicc": best_score if np.isfinite(best_score) else None,
            "models_fitted": len(search.fits),
            "seasonal_strength": round(strength, 4),
        },
    }
    return spec, Arima(spec).fit(y, estimate=theta)
