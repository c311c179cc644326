"""Data drift detectors: pure functions comparing a recent window of a series with its reference sample."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from . import thresholds as th

PSI_BINS = 5  # quantile bins of the reference; a 28-point window fills five bins with about 6 points each
PSI_SMOOTHING = 0.5  # pseudo-count per bin, so an empty bin does not make the index infinite


@dataclass(frozen=True)
class Check:
    """One test of one run: its statistic, the threshold it is compared with and whether it fired."""

    name: str
    statistic: float | None
    threshold: float
    fired: bool
    detail: dict = field(default_factory=dict)
    description: str = ""

    def to_dict(self) -> dict:
        return {
            "statistic": self.statistic,
            "threshold": self.threshold,
            "fired": self.fired,
            "description": self.description,
            **({"detail": self.detail} if self.detail else {}),
        }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def position_means(values: np.ndarray, positions: np.ndarray, m: int) -> np.ndarray:
    """Mean of the values at each seasonal position 0..m-1 (NaN where a position has no value)."""
    sums = np.bincount(positions, weights=values, minlength=m)
    counts = np.bincount(positions, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def balanced_mean(values: np.ndarray, positions: np.ndarray, m: int) -> float:
    """Mean of the per-position means: a level estimate that an unequal count of weekdays does not bias."""
    means = position_means(values, positions, m)
    return float(np.nanmean(means))


def seasonal(m: int, n: int) -> bool:
    """Whether a block of n points has at least two values per seasonal position to estimate a profile."""
    return m > 1 and n >= 2 * m


def end_aligned_blocks(n: int, block: int) -> list[slice]:
    """Consecutive slices of `block` points aligned to the end of `n` points (a leading partial block is dropped)."""
    start = n - (n // block) * block
    return [slice(i, i + block) for i in range(start, n, block)]


def residual_variance(values: np.ndarray, positions: np.ndarray, m: int, block: int) -> tuple[float, int]:
    """Pooled variance around per-block position means, and its degrees of freedom.

    The values are cut into consecutive blocks of `block` points aligned to the end (a leading partial
    block is dropped); within each block, the deviations from that block's seasonal position means (or
    from its mean when a block is too short for a profile) are pooled. The window is one such block,
    so window and reference variances are estimated the same way and slow level changes in a long
    reference do not inflate its variance.
    """
    parts = end_aligned_blocks(len(values), block)
    if not parts:
        return float("nan"), 0
    sse, dof = 0.0, 0
    for part in parts:
        x, pos = values[part], positions[part]
        if seasonal(m, block):
            fitted = position_means(x, pos, m)[pos]
            used = int(np.count_nonzero(np.bincount(pos, minlength=m)))
        else:
            fitted = np.full(len(x), x.mean())
            used = 1
        sse += float(np.sum((x - fitted) ** 2))
        dof += len(x) - used
    return (sse / dof if dof > 0 else float("nan")), dof


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


def noise_sd(reference: Sample, block: int) -> float:
    """Standard deviation of the reference around its within-block seasonal means."""
    var, _ = residual_variance(reference.values, reference.positions, reference.m, block)
    return math.sqrt(var) if var > 0 else float("nan")


def level_check(reference: Sample, window: Sample, sd: float) -> Check:
    """Change of the seasonally balanced mean, in noise standard deviations of the reference."""
    delta = balanced_mean(window.values, window.positions, window.m) - balanced_mean(
        reference.values, reference.positions, reference.m
    )
    value = delta / sd if sd > 0 else math.inf * np.sign(delta)
    return Check(
        "level_shift",
        _finite(value),
        th.LEVEL_SHIFT,
        abs(value) > th.LEVEL_SHIFT,
        {"delta": float(delta), "noise_sd": sd},
        "difference of the weekday-balanced means in reference noise standard deviations (two-sided)",
    )


def deviation_variance(sample: Sample, reference_profile: np.ndarray, block: int) -> tuple[float, int]:
    """Mean squared deviation from the reference's seasonal profile plus each block's own level.

    Blocks of `block` points are aligned to the end (a leading partial block is dropped). Measuring
    around the long-run profile rather than each block's own position means keeps the estimate
    steady when the weekly pattern drifts from month to month, as it does in sales data.
    """
    parts = end_aligned_blocks(len(sample.values), block)
    if not parts:
        return float("nan"), 0
    sse, dof = 0.0, 0
    for part in parts:
        x = sample.values[part] - reference_profile[sample.positions[part]]
        sse += float(np.sum((x - x.mean()) ** 2))
        dof += len(x) - 1
    return (sse / dof if dof > 0 else float("nan")), dof


def variance_check(reference: Sample, window: Sample, block: int) -> Check:
    """Log ratio of the window's and the reference's variances around the reference profile (two-sided)."""
    shape = np.nan_to_num(profile(reference)) if seasonal(reference.m, block) else np.zeros(reference.m)
    ref_var, ref_dof = deviation_variance(reference, shape, block)
    win_var, win_dof = deviation_variance(window, shape, block)
    both_positive = ref_var > 0 and win_var > 0
    value = math.log(win_var / ref_var) if both_positive else (0.0 if ref_var == win_var else math.inf)
    return Check(
        "variance_change",
        _finite(value),
        th.VARIANCE_LOG_RATIO,
        abs(value) > th.VARIANCE_LOG_RATIO,
        {
            "ratio": _finite(math.exp(value)) if math.isfinite(value) else None,
            "window_dof": win_dof,
            "ref_dof": ref_dof,
        },
        "log ratio of the variances around the reference weekday profile and the own level (two-sided)",
    )


def profile(sample: Sample) -> np.ndarray:
    """Seasonal profile: position means minus their mean (NaN for a position without values)."""
    means = position_means(sample.values, sample.positions, sample.m)
    return means - np.nanmean(means)


def profile_check(reference: Sample, window: Sample, sd: float) -> Check:
    """Root-mean-square difference of the seasonal profiles, in reference noise standard deviations.

    The window's profile is rescaled by the ratio of the reference and window levels first (when both
    are positive): sales seasonality is proportional to the level, so a change of level alone is the
    level check's finding, not a change of the profile.
    """
    p_ref, p_win = profile(reference), profile(window)
    ref_level = balanced_mean(reference.values, reference.positions, reference.m)
    win_level = balanced_mean(window.values, window.positions, window.m)
    factor = ref_level / win_level if ref_level > 0 and win_level > 0 else 1.0
    diff = p_win * factor - p_ref
    value = float(np.sqrt(np.nanmean(diff**2))) / sd if sd > 0 else math.inf
    return Check(
        "seasonal_profile",
        _finite(value),
        th.PROFILE,
        value > th.PROFILE,
        {
            "window_profile": [_finite(v) for v in p_win * factor],
            "reference_profile": [_finite(v) for v in p_ref],
            "level_factor": factor,
        },
        "RMS difference of the seasonal (day-of-week) profiles in reference noise standard deviations",
    )


def data_drift(reference: Sample, window: Sample) -> list[Check]:
    """Every data drift check of a window against its reference (the profile check only with a profile)."""
    block = len(window.values)
    sd = noise_sd(reference, block)
    checks = [
        ks_check(reference.values, window.values),
        psi_check(reference.values, window.values),
        wasserstein_check(reference.values, window.values),
        level_check(reference, window, sd),
        variance_check(reference, window, block),
    ]
    if seasonal(window.m, block):
        checks.append(profile_check(reference, window, sd))
    return checks
