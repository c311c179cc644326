"""Evidence against what the champion expected: actuals scored under the forecasts and intervals it served.

Every served day carries the champion's predictive distribution as quantiles (the mean as the median and
the bounds of the stored interval levels). An actual's normal score z is its place in that distribution
on the standard normal scale: 0 at the forecast, ±1.28 at the 80% bounds, ±1.96 at the 95% bounds,
interpolated between the stored quantiles and extrapolated beyond the outermost. Where several quantiles
coincide (bounds clipped at zero for sales, a point mass of an intermittent series), the score is drawn
within the probability range of the tie from a fixed low-discrepancy sequence of the date, so that
counts still score about N(0, 1) and a rerun gives the same number. A trend or season the champion
forecast therefore scores nothing; only what it did not expect does.

The errors of one forecast path are correlated: a shock on one day moves the forecasts' errors of
every later day of the path. The interval's growth with the horizon says how much: for a linear
innovations model (exponential smoothing, ARIMA), s_h² = s_1² (1 + c_1² + ... + c_{h-1}²) with s_h the
standard deviation of the served interval at horizon h and c_l the weight of a shock l days later
(read from a quadratic fit of s_h² on h, so a seasonal wobble of the interval does not count). The
scores of each serving version are whitened with the correlation those weights imply (a Cholesky
solve), which turns the path's errors back into about independent one-step innovations without
refitting anything; scores of different versions are taken as independent.

The alerting checks are functions of the window's served days (n of them), of their whitened scores u unless said:

- bias: |mean u| * sqrt(n): the actuals sit above or below the forecast;
- mean_score: |mean z| * sqrt(n) on the scores before whitening: every day off in its own interval's units,
  which a lasting step keeps showing (whitening reads a step as one surprising day);
- cusum_bias: peak of the two-sided tabular CUSUM of u (clipped at ±3, reference value 0.5): a shift
  that started inside the window (a break);
- scale: peak of the upper CUSUM of |u| (clipped at 3, reference value 0.95): errors larger than
  the intervals allowed (variance); absolute values rather than squares, so a few outliers weigh less;
- profile (daily data): sum over weekdays of count * (weekday mean u - mean u)²: some weekdays moved
  against the others (the weekly pattern);
- spread (daily data): log of the ratio of the mean square of the window's week-on-week differences
  (median-centred) to that of the SPREAD_REFERENCE days before: the noise grew. Week-on-week
  differences are the actuals detrended and deseasonalized without any model (a trend becomes a
  constant, which the centring removes), so a trend or season the champion forecast scores nothing;
- coverage: actuals outside the 95% interval, as a binomial standard score against the 5% expected;
- mase_ratio: sqrt(n) * (realized MASE / backtest MASE - 1): the served forecasts erred more than the
  champion's backtest said they would (decay).

One decision per series and run: the series alerts when any alerting check exceeds its threshold.
The thresholds are calibrated together (bench/drift_calibration.py) so that a stable series raises an
alert in at most 5% of 28-day periods; `shared.monitoring.thresholds` holds them per class of series
(frequency family, short history, low counts: what the monitor knows of a series when it checks it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import ndtr, ndtri

from . import thresholds as th

Z_LIMIT = 8.0  # normal scores are clipped here: beyond is "impossible" under the served distribution
CUSUM_CLIP = 3.0  # one outlier (a data error, a holiday) cannot fire a CUSUM alone
CUSUM_BIAS_K = 0.5  # reference value for a one-standard-deviation shift
CUSUM_SCALE_K = 0.95  # reference value of |u|: E|u| is 0.80 for N(0, 1) and 1.13 with the variance doubled
COVERAGE_LEVEL = 95
GOLDEN = (math.sqrt(5) - 1) / 2  # the fixed low-discrepancy sequence for ties: frac(day * GOLDEN)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

SPREAD_REFERENCE = 56  # days of week-on-week differences before the window that the window's are compared with
DRIFT_CHECKS = ("bias", "mean_score", "cusum_bias", "scale", "profile", "spread")
DECAY_CHECKS = ("coverage", "mase_ratio")
ALERTING = DRIFT_CHECKS + DECAY_CHECKS

DESCRIPTIONS = {
    "bias": "|mean whitened normal score| x sqrt(n) of the actuals under the served forecasts: above or below",
    "mean_score": "|mean normal score| x sqrt(n), not whitened: each day above or below its served interval's centre",
    "cusum_bias": "peak of the two-sided CUSUM (k 0.5) of the clipped whitened scores: a shift inside the window",
    "scale": "peak of the upper CUSUM (k 0.95) of the absolute clipped whitened scores: errors beyond the intervals",
    "profile": "sum over weekdays of count x (weekday mean score - mean score)^2: weekdays moved against each other",
    "spread": "log ratio of the mean squared week-on-week differences in the window to the 8 weeks' before",
    "coverage": "actuals outside the served 95% interval, as a standard score against the 5% expected",
    "mase_ratio": "sqrt(n) x (MASE of the served forecasts / backtest MASE - 1): more error than the backtest said",
}


@dataclass(frozen=True)
class Check:
    """One test of one run: its statistic, the threshold it is compared with and whether it fired.

    Evidence-only checks (`alerts` False) are reported with their statistic but never fire.
    """

    name: str
    statistic: float | None
    threshold: float
    fired: bool
    detail: dict = field(default_factory=dict)
    description: str = ""
    alerts: bool = True

    def to_dict(self) -> dict:
        return {
            "statistic": self.statistic,
            "threshold": self.threshold,
            "fired": self.fired,
            "alerts": self.alerts,
            "description": self.description,
            **({"detail": self.detail} if self.detail else {}),
        }

    @property
    def score(self) -> float:
        """The statistic as a multiple of its threshold (above 1 fires); 0 when there is none."""
        if self.statistic is None or not self.threshold:
            return 0.0
        return float(self.statistic) / self.threshold


def quantile_table(levels: list[float]) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Probabilities of the quantiles the bands of `levels` give (plus the mean as the median), ascending,
    and for each the band column and whether it is a lower (0) or upper (1) bound (("mean", 0) for the median).
    """
    entries = [(0.5, ("mean", 0))]
    for level in levels:
        tail = (1 - level / 100) / 2
        entries += [(tail, (f"lower_{level:g}", 0)), (1 - tail, (f"upper_{level:g}", 1))]
    entries.sort(key=lambda e: e[0])
    return np.array([p for p, _ in entries]), [c for _, c in entries]


def normal_scores(actual: np.ndarray, quantiles: np.ndarray, probs: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Normal score of each actual under its served quantiles (rows: days, columns: ascending `probs`).

    `days` (day numbers, e.g. proleptic ordinals) seed the fixed draw within ties.
    """
    actual = np.asarray(actual, dtype=float)
    q = np.maximum.accumulate(np.asarray(quantiles, dtype=float), axis=1)
    zk = ndtri(probs)
    k = len(probs)
    rows = np.arange(len(actual))
    y = actual[:, None]
    left = (q < y).sum(axis=1)
    right = (q <= y).sum(axis=1)
    # Between two distinct quantiles (or beyond the outermost): linear in the normal-score scale.
    j = np.clip(left, 1, k - 1)
    v0, v1 = q[rows, j - 1], q[rows, j]
    width = v1 - v0
    spread = (q[:, -1] - q[:, 0]) / (zk[-1] - zk[0])
    slope = np.where(width > 0, (zk[j] - zk[j - 1]) / np.where(width > 0, width, 1.0), 0.0)
    fallback = np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), np.inf)
    slope = np.where(slope > 0, slope, fallback)
    with np.errstate(invalid="ignore"):
        z = zk[j - 1] + (actual - v0) * slope
    z = np.where(np.isnan(z), 0.0, z)
    # On one quantile exactly: its own score. On several equal quantiles (a point mass): a fixed draw
    # over the mass, whose ends lie halfway to the neighbouring quantiles' probabilities (0 and 1 at the
    # ends of the table).
    exact = right - left == 1
    z = np.where(exact, zk[np.minimum(left, k - 1)], z)
    tie = right - left > 1
    if tie.any():
        lo, hi = np.clip(left, 1, k - 1), np.clip(right, 1, k - 1)
        below = np.where(left > 0, (probs[lo - 1] + probs[lo]) / 2, 0.0)
        top = np.where(right < k, (probs[hi - 1] + probs[hi]) / 2, 1.0)
        u = np.mod(np.asarray(days, dtype=float) * GOLDEN, 1.0)
        p = np.clip(below + u * (top - below), 1e-9, 1 - 1e-9)
        z = np.where(tie, ndtri(p), z)
    return np.clip(z, -Z_LIMIT, Z_LIMIT)


def cusum_peaks(z: np.ndarray, k: float) -> tuple[float, float]:
    """Peaks of the upper and lower tabular CUSUM of z with reference value k (both started at 0)."""
    hi = lo = peak_hi = peak_lo = 0.0
    for value in z.tolist():
        hi = max(0.0, hi + value - k)
        lo = max(0.0, lo - value - k)
        peak_hi, peak_lo = max(peak_hi, hi), max(peak_lo, lo)
    return peak_hi, peak_lo


@dataclass
class Window:
    """The served days of a window: actuals, served means and bands, normal scores, weekday positions."""

    actual: np.ndarray
    mean: np.ndarray
    lower95: np.ndarray
    upper95: np.ndarray
    z: np.ndarray
    weekday: np.ndarray | None  # Monday 0, daily data only
    unit: str = "days"
    u: np.ndarray | None = None  # whitened scores (z when the path structure is unknown)
    spread: float | None = None  # the spread statistic (daily data with enough history before the window)

    @property
    def n(self) -> int:
        return len(self.z)

    @property
    def innovations(self) -> np.ndarray:
        return self.z if self.u is None else self.u


def statistics(window: Window, realized_mase: float | None, expected_mase: float | None) -> dict[str, float]:
    """Every alerting statistic of a window (a check whose inputs are missing is left out)."""
    z, n = window.innovations, window.n
    out: dict[str, float] = {"bias": abs(float(z.mean())) * math.sqrt(n)}
    out["mean_score"] = abs(float(window.z.mean())) * math.sqrt(n)
    clipped = np.clip(z, -CUSUM_CLIP, CUSUM_CLIP)
    out["cusum_bias"] = max(cusum_peaks(clipped, CUSUM_BIAS_K))
    out["scale"] = cusum_peaks(np.abs(clipped), CUSUM_SCALE_K)[0]
    if window.weekday is not None and n >= 14:
        counts = np.bincount(window.weekday, minlength=7)
        sums = np.bincount(window.weekday, weights=z, minlength=7)
        seen = counts > 0
        means = sums[seen] / counts[seen]
        out["profile"] = float(np.sum(counts[seen] * (means - z.mean()) ** 2))
    if window.spread is not None:
        out["spread"] = window.spread
    outside = np.sum((window.actual < window.lower95) | (window.actual > window.upper95))
    out["coverage"] = float((outside - 0.05 * n) / math.sqrt(0.05 * 0.95 * n))
    if realized_mase is not None and expected_mase:
        out["mase_ratio"] = math.sqrt(n) * (realized_mase / expected_mase - 1)
    return out


def checks_of(stats: dict[str, float], klass: str, detail: dict | None = None) -> list[Check]:
    """The alerting checks of a window's statistics against the thresholds of the series' class."""
    limits = th.thresholds_for(klass)
    detail = detail or {}
    return [
        Check(name, stats[name], limits[name], stats[name] > limits[name], detail.get(name, {}), DESCRIPTIONS[name])
        for name in ALERTING
        if name in stats
    ]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def phrase(check: Check, window: Window, mase: tuple[float, float] | None) -> str:
    """The finding of one alerting check in words."""
    z = window.z
    if check.name in ("bias", "mean_score", "cusum_bias"):
        direction = "above" if z.mean() >= 0 else "below"
        tail = "since a shift inside the window" if check.name == "cusum_bias" else "throughout"
        return f"actuals ran {direction} the forecast {tail} (mean error {z.mean():+.1f} interval standard deviations)"
    if check.name == "scale":
        return f"errors were {math.sqrt(float(np.mean(z**2))):.1f}x as large as the intervals allowed"
    if check.name == "profile" and window.weekday is not None:
        ratios = {}
        for day in np.unique(window.weekday):
            here = window.weekday == day
            forecast = float(np.sum(window.mean[here]))
            if forecast > 0:
                ratios[int(day)] = float(np.sum(window.actual[here])) / forecast - 1
        if ratios:
            hi, lo = max(ratios, key=ratios.get), min(ratios, key=ratios.get)
            return (
                f"the weekly pattern changed: {WEEKDAYS[hi]}s were {ratios[hi]:+.0%} and {WEEKDAYS[lo]}s "
                f"{ratios[lo]:+.0%} against the forecast"
            )
        return "the weekly pattern changed"
    if check.name == "spread" and check.statistic is not None:
        return (
            f"day-to-day swings grew: week-on-week changes were {math.exp(check.statistic / 2):.1f}x as large as before"
        )
    if check.name == "coverage":
        return "far more actuals fell outside the 95% interval than the 5% expected"
    if check.name == "mase_ratio" and mase is not None:
        return f"the error was {mase[0] / mase[1]:.1f}x the backtest's (MASE {mase[0]:.2f} against {mase[1]:.2f})"
    return check.description


def why(window: Window | None, checks: list[Check], mase: tuple[float, float] | None = None) -> str:
    """The report's first line: how the window compared with what was served, and the strongest evidence."""
    if window is None or window.n == 0:
        return "Not judged: no forecast was served for the window's days yet."
    total = float(np.sum(window.mean))
    gap = float(np.sum(window.actual)) / total - 1 if total > 0 else None
    covered = float(np.mean((window.actual >= window.lower95) & (window.actual <= window.upper95)))
    level = (
        f"{abs(gap):.0%} {'above' if gap >= 0 else 'below'} what the champion forecast"
        if gap is not None
        else "against a forecast of zero"
    )
    sentence = f"The last {window.n} {window.unit} were {level}; its 95% interval covered {_pct(covered)} of them."
    alerting = [c for c in checks if c.alerts and c.statistic is not None]
    if not alerting:
        return sentence
    top = max(alerting, key=lambda c: c.score)
    if top.fired:
        numbers = f"{top.name} {top.statistic:.2f}, threshold {top.threshold:.2f}"
        return f"{sentence} Alert: {phrase(top, window, mase)} ({numbers})."
    return f"{sentence} Within what it expected (strongest: {top.name} at {top.score:.0%} of its threshold)."


def path_sd(band: dict[str, np.ndarray], levels: list[float]) -> np.ndarray:
    """Standard deviation each served interval implies: the wider half of its 80% band (else of its
    innermost level) in normal units, so a lower bound clipped at zero does not shrink it."""
    level = 80 if 80 in levels else min(levels)
    half = np.maximum(band[f"upper_{level:g}"] - band["mean"], band["mean"] - band[f"lower_{level:g}"])
    return half / float(ndtri(0.5 + level / 200))


def point_sd(point: dict) -> float | None:
    """The standard deviation one stored forecast point's 80% band implies (None without that band)."""
    if point.get("upper_80") is None or point.get("lower_80") is None:
        return None
    band = {c: np.array([float(point[c])]) for c in ("mean", "lower_80", "upper_80")}
    return float(path_sd(band, [80])[0])


def psi_weights(sd: np.ndarray) -> np.ndarray:
    """The weights c_0 = 1, c_1, ... of a linear innovations model whose h-step standard deviations are `sd`.

    s_h² = s_1² (1 + c_1² + ... + c_{h-1}²). The variances are smoothed first by a quadratic in the
    horizon (least squares), so a seasonal wobble of the interval (multiplicative seasonality) does not
    read as shocks of alternating weight; the weights are taken non-negative.
    """
    s2 = np.asarray(sd, dtype=float) ** 2
    h = np.arange(len(s2), dtype=float)
    if len(s2) >= 3:
        coef = np.polynomial.polynomial.polyfit(h, s2, 2)
        fitted = np.polynomial.polynomial.polyval(h, coef)
    else:
        fitted = s2.copy()
    base = fitted[0] if fitted[0] > 0 else max(float(s2[0]), 1e-24)
    increments = np.maximum(np.diff(np.maximum.accumulate(fitted)), 0.0)
    return np.concatenate([[1.0], np.sqrt(increments / base)])


def whiten(z: np.ndarray, horizon: np.ndarray, group: np.ndarray, path_sds: list[np.ndarray]) -> np.ndarray:
    """The scores with the path correlation of each serving version removed (see the module docstring).

    `horizon` is each day's horizon in its version's path, `group` the version's index in `path_sds`,
    which holds each version's standard deviation per horizon (1, 2, ...). The error at horizon h is
    taken as sum over l < h of c_l times the shock of day h - l, so two days of one path share the
    shocks before the earlier one; days of different versions share none.
    """
    n = len(z)
    horizon = np.asarray(horizon, dtype=int)
    weights = np.zeros((n, int(horizon.max()) if n else 0))
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        c = psi_weights(path_sds[g])
        for i in rows:
            h = min(horizon[i], len(c))
            weights[i, :h] = c[:h][::-1]  # the shock of day tau (1..h) weighs c_{h - tau}
    gram = np.zeros((n, n))
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        block = weights[rows]
        gram[np.ix_(rows, rows)] = block @ block.T
    norms = np.sqrt(np.diag(gram))
    corr = gram / np.outer(norms, norms)
    try:
        lower = np.linalg.cholesky(corr + 1e-9 * np.eye(n))
    except np.linalg.LinAlgError:  # numerically singular: the scores as they are
        return z
    return solve_triangular(lower, z, lower=True)


@dataclass
class ServedDays:
    """The served days of one window: actuals, the band columns served for them (mean, lower_L, upper_L per
    level in `levels`), their day numbers (seeding the draw within ties) and weekdays (daily data), and
    optionally each day's horizon in its version's path, the version's index and each version's standard
    deviation per horizon (`path`), which lets the scores be whitened (without it they are taken as independent).
    """

    actual: np.ndarray
    band: dict[str, np.ndarray]
    levels: list[float]
    days: np.ndarray
    weekday: np.ndarray | None = None
    path: tuple[np.ndarray, np.ndarray, list[np.ndarray]] | None = None


def spread(values: np.ndarray, window: int, m: int = 7) -> float | None:
    """The spread statistic of the last `window` of `values` (see the module docstring); None without enough
    history: the lag-m differences inside the window against the SPREAD_REFERENCE ones before it."""
    values = np.asarray(values, dtype=float)
    inside = window - m
    if inside < m or len(values) < window + SPREAD_REFERENCE:
        return None
    d = values[m:] - values[:-m]
    recent, before = d[-inside:], d[-inside - SPREAD_REFERENCE : -inside]
    recent_ms = float(np.mean((recent - np.median(recent)) ** 2))
    before_ms = float(np.mean((before - np.median(before)) ** 2))
    if recent_ms <= 0 or before_ms <= 0:
        return None  # constant stretches (a series of zeros): nothing to compare
    return math.log(recent_ms / before_ms)


def window_from_band(served: ServedDays, unit: str) -> Window:
    """The Window of a window's served days (their scores, whitened when the path is known)."""
    probs, columns = quantile_table(served.levels)
    band = served.band
    quantiles = np.column_stack([band[c] for c, _ in columns])
    z = normal_scores(served.actual, quantiles, probs, served.days)
    u = None
    if served.path is not None:
        horizon, group, path_sds = served.path
        u = np.clip(whiten(z, horizon, group, path_sds), -Z_LIMIT, Z_LIMIT)
    lower, upper = band.get(f"lower_{COVERAGE_LEVEL}"), band.get(f"upper_{COVERAGE_LEVEL}")
    if lower is None or upper is None:  # coverage from the normal scores when no 95% band was stored
        inside = np.abs(z) <= ndtri(0.975)
        lower = np.where(inside, -np.inf, np.inf)
        upper = np.where(inside, np.inf, -np.inf)
    actual = np.asarray(served.actual, dtype=float)
    return Window(actual, band["mean"], lower, upper, z, served.weekday, unit, u)


def pit(window: Window) -> np.ndarray:
    """Probability integral transform of the actuals under the served distributions."""
    return ndtr(window.z)
