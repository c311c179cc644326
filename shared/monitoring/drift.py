"""Raw-value evidence: the recent window's values against the champion's training data (never alarms alone).

A trend or season the champion forecasts moves raw values away from their history by design, so these
checks are reported as evidence beside the alerting checks of shared.monitoring.evidence and never fire;
`detail.beyond_threshold` says whether a statistic is beyond the threshold it once alarmed at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from . import thresholds as th
from .evidence import Check

PSI_BINS = 5  # quantile bins of the reference; a 28-point window fills five bins with about 6 points each
MIN_RANKED = 5  # reference values a position needs for the window's values to be ranked among them
CONSTANT_SCALE = 1e-12  # the spread assumed for a constant reference: an unchanged window scores 0
PSI_SMOOTHING = 0.5  # pseudo-count per bin, so an empty bin does not make the index infinite


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def seasonal(m: int, n: int) -> bool:
    """Whether a block of n points has at least two values per seasonal position to estimate a profile."""
    return m > 1 and n >= 2 * m


def ks_check(reference: np.ndarray, window: np.ndarray) -> Check:
    """Two-sample Kolmogorov–Smirnov distance, scaled by sqrt(n m / (n + m)) so one threshold fits all sizes."""
    result = stats.ks_2samp(window, reference)
    n, m = len(window), len(reference)
    scaled = float(result.statistic) * math.sqrt(n * m / (n + m))
    return Check(
        "ks",
        _finite(scaled),
        th.KS_SCALED,
        scaled > th.KS_SCALED,
        {"d": float(result.statistic), "naive_p_value": float(result.pvalue)},
        "two-sample Kolmogorov–Smirnov distance of the values, scaled by sqrt(nm/(n+m))",
    )


def psi(reference: np.ndarray, window: np.ndarray, bins: int = PSI_BINS) -> float:
    """Population stability index over quantile bins of the reference (pseudo-count smoothed)."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref_counts = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1)
    win_counts = np.bincount(np.searchsorted(edges, window, side="right"), minlength=len(edges) + 1)
    k = len(ref_counts)
    p = (ref_counts + PSI_SMOOTHING) / (len(reference) + PSI_SMOOTHING * k)
    q = (win_counts + PSI_SMOOTHING) / (len(window) + PSI_SMOOTHING * k)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_check(reference: np.ndarray, window: np.ndarray) -> Check:
    value = psi(reference, window)
    return Check(
        "psi",
        _finite(value),
        th.PSI,
        value > th.PSI,
        {"bins": PSI_BINS},
        f"population stability index over {PSI_BINS} quantile bins of the reference",
    )


def wasserstein_check(reference: np.ndarray, window: np.ndarray) -> Check:
    """First Wasserstein distance between the value distributions, in reference standard deviations."""
    sd = float(np.std(reference, ddof=1))
    distance = float(stats.wasserstein_distance(window, reference))
    value = distance / sd if sd > 0 else (0.0 if distance == 0 else math.inf)
    return Check(
        "wasserstein",
        _finite(value),
        th.WASSERSTEIN,
        value > th.WASSERSTEIN,
        {"distance": distance, "reference_sd": sd},
        "Wasserstein-1 distance of the values divided by the reference standard deviation",
    )


@dataclass(frozen=True)
class Sample:
    """Values of a stretch of a regular series with their seasonal positions (index mod the season length)."""

    values: np.ndarray
    positions: np.ndarray
    m: int

    def __post_init__(self) -> None:
        if len(self.values) != len(self.positions):
            raise ValueError("values and positions must have the same length")

    def at(self, position: int) -> np.ndarray:
        return self.values[self.positions == position]


def normal_scores(ranked: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Standard normal scores of x from their mid-ranks among the sorted values `ranked`."""
    rank = (np.searchsorted(ranked, x, "left") + np.searchsorted(ranked, x, "right")) / 2
    return stats.norm.ppf((rank + 0.5) / (len(ranked) + 1))


def position_scores(reference: Sample, window: Sample) -> np.ndarray:
    """Normal scores of the window's values among the reference values of the same seasonal position.

    Each value's mid-rank among the reference values of its weekday (its position) becomes the
    quantile (rank + 0.5) / (n + 1) and then a standard normal score. Ranks make the scores indifferent
    to skew, outliers and the two clusters of sales days (high and low) that break means and standard
    deviations, and comparing each value with its own weekday takes the weekly pattern out: for an
    unchanged series the scores are about N(0, 1). A position with fewer than MIN_RANKED reference
    values (a monthly series with a year or two of history) has too few to rank against; its value's
    deviation from the position's reference mean is ranked among all the reference's deviations from
    their position means instead.
    """
    scores = np.empty(len(window.values))
    means = {p: float(np.mean(reference.at(p))) for p in np.unique(reference.positions)}
    overall = float(np.mean(reference.values))
    deviations = np.sort(reference.values - np.array([means[p] for p in reference.positions]))
    for position in np.unique(window.positions):
        here = window.positions == position
        own = reference.at(position)
        if len(own) >= MIN_RANKED:
            scores[here] = normal_scores(np.sort(own), window.values[here])
        else:
            scores[here] = normal_scores(deviations, window.values[here] - means.get(position, overall))
    return scores


def level_check(scores: np.ndarray) -> Check:
    """Mean normal score of the window against its weekdays in the reference (two-sided)."""
    value = float(np.mean(scores))
    return Check(
        "level_shift",
        _finite(value),
        th.LEVEL_SHIFT,
        abs(value) > th.LEVEL_SHIFT,
        {"points": len(scores)},
        "mean normal score of the window's values ranked among the reference values of the same weekday "
        "(0 when alike, two-sided)",
    )


def profile_check(scores: np.ndarray, window: Sample) -> Check:
    """Spread of the weekday means of the normal scores around their overall mean (level removed).

    The sum over weekdays of count * (weekday mean score - mean score)^2, about chi-square with m - 1
    degrees of freedom when the days are independent; larger when some weekdays moved up against
    others (a changed weekly pattern) rather than all together (a level shift).
    """
    overall = float(np.mean(scores))
    means: list[float | None] = []
    value = 0.0
    for position in range(window.m):
        here = scores[window.positions == position]
        if len(here) == 0:
            means.append(None)
            continue
        mean = float(np.mean(here))
        means.append(_finite(mean))
        value += len(here) * (mean - overall) ** 2
    return Check(
        "seasonal_profile",
        _finite(value),
        th.PROFILE,
        value > th.PROFILE,
        {"position_mean_scores": means, "mean_score": _finite(overall)},
        "sum over weekdays of count x (weekday mean normal score - mean normal score)^2: weekdays that moved "
        "against each other",
    )


def standard_scores(reference: Sample, window: Sample) -> tuple[np.ndarray, np.ndarray]:
    """Reference and window values as standard scores of their position in the reference.

    Both are on log(1 + y) when neither holds a negative value, on the values otherwise: one scale
    for the two. Each position's mean and standard deviation come from the reference (the whole
    reference for a position with fewer than two values); a standard deviation is floored at a
    quarter of the pooled one, so a weekday that was almost constant does not turn one unusual day
    into an infinite score (only a reference that is constant throughout does).
    """
    nonnegative = bool(np.all(reference.values >= 0) and np.all(window.values >= 0))
    scale = np.log1p if nonnegative else np.asarray
    ref = scale(reference.values)
    pooled = float(np.std(ref, ddof=1)) if len(ref) > 1 else 0.0
    means, sds = np.full(reference.m, np.mean(ref)), np.full(reference.m, pooled)
    for position in range(reference.m):
        x = ref[reference.positions == position]
        if len(x) >= 2:
            means[position], sds[position] = np.mean(x), np.std(x, ddof=1)
    within = float(np.sqrt(np.mean(sds**2)))
    sds = np.maximum(sds, max(0.25 * within, CONSTANT_SCALE))
    reference_scores = (ref - means[reference.positions]) / sds[reference.positions]
    window_scores = (scale(window.values) - means[window.positions]) / sds[window.positions]
    return reference_scores, window_scores


def variance_check(reference: Sample, window: Sample) -> Check:
    """Log ratio of the window's and the reference's mean squared weekday standard scores (two-sided).

    The window's scores are centred on their median first, so a change of level alone is the level
    check's finding. On log(1 + y) a doubled spread of sales shows as days far below (and above)
    anything their weekday had before; the reference's own mean square (slightly below 1) is the
    denominator, so alike is 0.
    """
    reference_scores, scores = standard_scores(reference, window)
    reference_ms = float(np.mean(reference_scores**2))
    window_ms = float(np.mean((scores - np.median(scores)) ** 2))
    both_positive = reference_ms > 0 and window_ms > 0
    value = math.log(window_ms / reference_ms) if both_positive else (0.0 if reference_ms == window_ms else math.inf)
    return Check(
        "variance_change",
        _finite(value),
        th.VARIANCE_LOG_RATIO,
        abs(value) > th.VARIANCE_LOG_RATIO,
        {"window_mean_square": _finite(window_ms), "reference_mean_square": _finite(reference_ms)},
        "log ratio of the mean squared standard scores (by weekday, on log(1 + y), the window's centred on "
        "their median) of window and reference (two-sided)",
    )


def data_drift(reference: Sample, window: Sample) -> list[Check]:
    """Every data drift check of a window against its reference (the profile check only with a profile)."""
    scores = position_scores(reference, window)
    checks = [
        ks_check(reference.values, window.values),
        psi_check(reference.values, window.values),
        wasserstein_check(reference.values, window.values),
        level_check(scores),
        variance_check(reference, window),
    ]
    if seasonal(window.m, len(window.values)):
        checks.append(profile_check(scores, window))
    return [evidence_only(c) for c in checks]


def evidence_only(check: Check) -> Check:
    """The check as evidence: it never fires, and says whether it is beyond its threshold."""
    return replace(
        check,
        fired=False,
        alerts=False,
        detail={**check.detail, "beyond_threshold": check.fired},
        description=f"{check.description} (evidence only)",
    )
