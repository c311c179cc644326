"""Raw-value evidence: each check is beyond its threshold on its change, quiet on stable series, never fires."""

import numpy as np
import pytest

from shared.monitoring import thresholds as th
from shared.monitoring.drift import Sample, data_drift, position_scores, psi, standard_scores
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
    return {c.name: c.detail["beyond_threshold"] for c in data_drift(reference, window)}


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


def test_level_statistic_is_signed():
    y = daily_sales(days=224, seed=3)
    y.iloc[-WINDOW:] -= 2 * NOISE_SD
    reference, window = split(y)
    level = next(c for c in data_drift(reference, window) if c.name == "level_shift")
    assert level.detail["beyond_threshold"] and level.statistic < -1.0


def test_scores_rank_each_value_among_its_own_weekday():
    mondays, tuesdays = [10.0, 20.0, 30.0, 40.0, 50.0], [1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
    reference = Sample(np.array(mondays + tuesdays), np.repeat([0, 1], 5), 2)
    window = Sample(np.array([30.0, 30.0, 9000.0]), np.array([0, 1, 1]), 2)
    scores = position_scores(reference, window)
    # 30 is the middle Monday (a score of 0) but below every Tuesday; 9000 is above every Tuesday.
    assert scores[0] == pytest.approx(0.0)
    assert scores[1] == pytest.approx(-scores[2]) and scores[2] > 1.0


def test_a_position_with_few_reference_values_is_ranked_by_its_deviation_among_all():
    months = np.arange(24) % 12
    season = 100 * np.sin(2 * np.pi * months / 12)
    values = 1000 + season + np.random.default_rng(2).normal(0, 10, 24)
    reference, window = Sample(values[:18], months[:18], 12), Sample(values[18:] + 200, months[18:], 12)
    scores = position_scores(reference, window)
    assert np.all(scores > 1.5)  # every month far above its own season, though each has one or two references
    level = next(c for c in data_drift(reference, window) if c.name == "level_shift")
    assert level.detail["beyond_threshold"]
    unchanged = position_scores(reference, Sample(values[18:], months[18:], 12))
    assert abs(unchanged.mean()) < th.LEVEL_SHIFT


def test_scores_of_an_unchanged_series_are_about_standard_normal():
    y = daily_sales(days=2000, seed=5)
    values, positions = y.to_numpy(), np.arange(len(y)) % 7
    scores = position_scores(Sample(values[:1000], positions[:1000], 7), Sample(values[1000:], positions[1000:], 7))
    assert abs(scores.mean()) < 0.1 and 0.9 < scores.std() < 1.1


def test_standard_scores_use_the_log_scale_only_without_negative_values():
    reference = Sample(np.array([90.0, 110.0, 95.0, 105.0]), np.zeros(4, dtype=int), 1)
    _, on_logs = standard_scores(reference, Sample(np.array([100.0]), np.zeros(1, dtype=int), 1))
    _, raw = standard_scores(reference, Sample(np.array([-100.0]), np.zeros(1, dtype=int), 1))
    assert abs(on_logs[0]) < 0.2  # log(101) sits in the middle of the reference's logs
    assert raw[0] == pytest.approx((-100.0 - 100.0) / np.std([90, 110, 95, 105], ddof=1))


def test_reference_and_window_scores_share_one_scale():
    reference = Sample(np.array([90.0, 110.0, 95.0, 105.0]), np.zeros(4, dtype=int), 1)
    reference_scores, _ = standard_scores(reference, Sample(np.array([-100.0]), np.zeros(1, dtype=int), 1))
    expected = (np.array([90.0, 110.0, 95.0, 105.0]) - 100.0) / np.std([90, 110, 95, 105], ddof=1)
    np.testing.assert_allclose(reference_scores, expected)  # raw values, like the window with a negative day


def test_a_constant_weekday_does_not_make_one_unusual_day_infinite():
    values = 300 + np.random.default_rng(0).normal(0, 50, 56)
    values[np.arange(56) % 7 == 0] = 500.0  # Mondays never changed
    positions = np.arange(56) % 7
    _, z = standard_scores(Sample(values, positions, 7), Sample(np.array([650.0]), np.array([0]), 7))
    assert np.isfinite(z[0]) and z[0] > 0


def test_identical_distributions_have_zero_psi_and_unequal_ones_positive():
    x = np.arange(100.0)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)
    assert psi(x, x + 50) > 0.5


def test_short_window_without_a_profile_skips_the_profile_check():
    y = daily_sales(days=120)
    values, positions = y.to_numpy(), np.arange(120) % 7
    names = [
        c.name for c in data_drift(Sample(values[:-10], positions[:-10], 7), Sample(values[-10:], positions[-10:], 7))
    ]
    assert "seasonal_profile" not in names and "level_shift" in names


def test_a_constant_series_is_not_drift_until_its_level_moves():
    positions = np.arange(84) % 7
    constant = np.full(84, 100.0)
    reference = Sample(constant[:56], positions[:56], 7)
    same = {
        c.name: c.detail["beyond_threshold"] for c in data_drift(reference, Sample(constant[56:], positions[56:], 7))
    }
    moved = {
        c.name: c.detail["beyond_threshold"]
        for c in data_drift(reference, Sample(constant[56:] + 5, positions[56:], 7))
    }
    assert not any(same.values()), same
    assert moved["level_shift"] and not moved["variance_change"] and not moved["seasonal_profile"], moved


def test_raw_value_checks_are_evidence_and_never_fire():
    reference, window = split(changed(daily_sales(days=224, seed=1), "level"))
    checks = data_drift(reference, window)
    assert any(c.detail["beyond_threshold"] for c in checks)
    assert not any(c.fired or c.alerts for c in checks)
    assert all(c.description.endswith("(evidence only)") for c in checks)
