"""Data drift detectors: each fires on its injected change and stays quiet on stable series."""

import numpy as np
import pytest

from shared.monitoring.drift import Sample, data_drift, psi, residual_variance
from tests.monitoring.builders import NOISE_SD, PROFILE, daily_sales

SERIES = 25
WINDOW = 28


def split(y, window=WINDOW):
    values = y.to_numpy()
    positions = np.arange(len(values)) % 7
    cut = len(values) - window
    return Sample(values[:cut], positions[:cut], 7), Sample(values[cut:], positions[cut:], 7)


def changed(y, kind: str):
    y = y.copy()
    tail = slice(len(y) - WINDOW, None)
    dow = y.index.day_of_week[tail]
    if kind == "level":
        y.iloc[tail] += 3 * NOISE_SD
    elif kind == "variance":
        expected = 1000 + PROFILE[dow]
        y.iloc[tail] = expected + 3 * (y.iloc[tail].to_numpy() - expected)  # variance x9
    elif kind == "profile":
        y.iloc[tail] += np.roll(PROFILE, 3)[dow] - PROFILE[dow]
    return y


def fired(y) -> dict[str, bool]:
    reference, window = split(y)
    return {c.name: c.fired for c in data_drift(reference, window)}


def fire_counts(kind: str | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for seed in range(SERIES):
        y = daily_sales(days=224, seed=seed)
        for name, hit in fired(changed(y, kind) if kind else y).items():
            counts[name] = counts.get(name, 0) + hit
    return counts


def test_every_check_stays_quiet_on_stable_series():
    counts = fire_counts(None)
    assert set(counts) == {"ks", "psi", "wasserstein", "level_shift", "variance_change", "seasonal_profile"}
    assert all(count <= 1 for count in counts.values()), counts


@pytest.mark.parametrize(
    ("kind", "checks"),
    [
        ("level", ("ks", "psi", "wasserstein", "level_shift")),
        ("variance", ("variance_change",)),
        ("profile", ("seasonal_profile",)),
    ],
)
def test_each_check_fires_on_its_change(kind, checks):
    counts = fire_counts(kind)
    for name in checks:
        assert counts[name] >= SERIES - 1, (name, counts)


def test_a_level_shift_is_not_reported_as_a_new_profile():
    counts = fire_counts("level")
    assert counts["seasonal_profile"] <= 1 and counts["variance_change"] <= 1, counts


def test_level_statistic_is_signed_and_in_noise_units():
    y = daily_sales(days=224, seed=3)
    y.iloc[-WINDOW:] -= 2 * NOISE_SD
    reference, window = split(y)
    level = next(c for c in data_drift(reference, window) if c.name == "level_shift")
    assert level.fired and -2.4 < level.statistic < -1.6


def test_identical_distributions_have_zero_psi_and_unequal_ones_positive():
    x = np.arange(100.0)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)
    assert psi(x, x + 50) > 0.5


def test_residual_variance_ignores_slow_level_changes_between_blocks():
    y = daily_sales(days=224, seed=1)
    values = y.to_numpy() + np.repeat(np.arange(8) * 500.0, 28)  # a new level every four weeks
    positions = np.arange(len(values)) % 7
    variance, dof = residual_variance(values, positions, 7, 28)
    assert dof == 8 * 21
    assert NOISE_SD * 0.8 < np.sqrt(variance) < NOISE_SD * 1.2


def test_short_window_without_a_profile_skips_the_profile_check():
    y = daily_sales(days=120)
    values, positions = y.to_numpy(), np.arange(120) % 7
    names = [
        c.name for c in data_drift(Sample(values[:-10], positions[:-10], 7), Sample(values[-10:], positions[-10:], 7))
    ]
    assert "seasonal_profile" not in names and "level_shift" in names
