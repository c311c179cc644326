"""Evidence against the champion's served forecasts: scores, whitening, and each check on its change."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from shared.forecasting.ets import auto_ets
from shared.monitoring import thresholds as th
from shared.monitoring.checks import STORED_LEVELS, judge
from shared.monitoring.evidence import ServedDays, normal_scores, path_sd, quantile_table, spread, whiten

SIGMA = 10.0
ALPHA = 0.1  # the served paths' local-level smoothing: sd at horizon h is SIGMA * sqrt(1 + (h - 1) ALPHA^2)
W = 28
EXPECTED_MASE = float(np.sqrt(2 / np.pi) * np.sqrt(1 + 13 * ALPHA**2))  # mean |error| / SIGMA over a window


def gaussian_band(mean: np.ndarray, sd: np.ndarray) -> dict[str, np.ndarray]:
    band = {"mean": mean}
    for level in STORED_LEVELS:
        z = ndtri(0.5 + level / 200)
        band[f"lower_{level}"], band[f"upper_{level}"] = mean - z * sd, mean + z * sd
    return band


def local_level_path(seed: int, days: int = W + 14):
    """Actuals from the local-level model a served path assumes: forecast 100, level moving by ALPHA * shock."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0, SIGMA, days)
    level = 100 + np.concatenate([[0.0], np.cumsum(ALPHA * shocks[:-1])])
    actual = level + shocks
    horizon = np.arange(1, days + 1)
    sd = SIGMA * np.sqrt(1 + (horizon - 1) * ALPHA**2)
    return actual, np.full(days, 100.0), sd, horizon


def run(actual, mean, sd, horizon, *, expected_mase=None, start=0, spread_value=None):
    """The judgement of one window of W served days of one path starting at `start`."""
    sl = slice(start, start + W)
    days = pd.date_range("2024-03-04", periods=len(actual), freq="D")  # a Monday
    served = ServedDays(
        actual[sl],
        {k: v[sl] for k, v in gaussian_band(mean, sd).items()},
        list(STORED_LEVELS),
        np.array([d.toordinal() for d in days[sl]]),
        np.asarray(days.day_of_week)[sl],
        (horizon[sl], np.zeros(W, dtype=int), [sd]),
    )
    return judge(served, fam="D", mase_scale_value=SIGMA, expected_mase=expected_mase, spread_value=spread_value)


def statistic(judgement, name):
    return next(c for c in judgement.checks if c.name == name)


def test_a_served_median_scores_zero_and_a_bound_its_normal_quantile():
    probs, columns = quantile_table(list(STORED_LEVELS))
    band = gaussian_band(np.array([50.0, 50.0, 50.0]), np.array([5.0, 5.0, 5.0]))
    quantiles = np.column_stack([band[c] for c, _ in columns])
    z = normal_scores(np.array([50.0, band["upper_80"][0], band["lower_95"][0]]), quantiles, probs, np.arange(3))
    assert z == pytest.approx([0.0, 1.2816, -1.96], abs=1e-3)


def test_counts_score_about_standard_normal_under_their_own_quantiles():
    from scipy.stats import poisson

    rng = np.random.default_rng(1)
    rate = 0.7
    actual = rng.poisson(rate, 4000).astype(float)
    probs, _ = quantile_table(list(STORED_LEVELS))
    quantiles = np.tile(poisson.ppf(probs, rate), (4000, 1))  # many equal quantiles: point masses at 0, 1, 2
    z = normal_scores(actual, quantiles, probs, np.arange(700_000, 704_000))
    assert np.isfinite(z).all() and abs(z.mean()) < 0.25 and 0.75 < z.std() < 1.25
    assert len(np.unique(z[actual == 0])) > 100  # zeros spread over their probability, not one score


def test_whitening_turns_a_path_back_into_independent_innovations():
    raw, white = [], []
    for seed in range(300):
        actual, mean, sd, horizon = local_level_path(seed)
        z = (actual[:W] - mean[:W]) / sd[:W]
        raw.append(z.mean() * np.sqrt(W))
        white.append(whiten(z, horizon[:W], np.zeros(W, dtype=int), [sd]).mean() * np.sqrt(W))
    assert np.std(raw) > 1.6  # the path's errors share its level error
    assert 0.85 < np.std(white) < 1.15


@pytest.mark.parametrize("seed", range(5))
def test_a_stable_path_fires_nothing(seed):
    actual, mean, sd, horizon = local_level_path(seed)
    judgement = run(actual, mean, sd, horizon, expected_mase=EXPECTED_MASE)
    assert not judgement.alert, [(c.name, c.statistic, c.threshold) for c in judgement.checks]
    assert "Within what it expected" in judgement.why


CHANGES = {
    "bias": lambda a, t, sd: a + 5 * SIGMA,
    "mean_score": lambda a, t, sd: a + 5 * SIGMA,
    "cusum_bias": lambda a, t, sd: a + np.where(t >= 14, 7 * SIGMA, 0.0),
    "scale": lambda a, t, sd: 100 + 5 * (a - 100),
    "profile": lambda a, t, sd: a + np.where(t % 7 < 2, 3 * SIGMA, np.where(t % 7 < 4, -3 * SIGMA, 0.0)),
    "coverage": lambda a, t, sd: 100 + 8 * (a - 100),
    "mase_ratio": lambda a, t, sd: a + 4 * SIGMA,
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_check_fires_on_its_change(name):
    hits = 0
    for seed in range(10):
        actual, mean, sd, horizon = local_level_path(seed)
        t = np.arange(len(actual))
        changed = CHANGES[name](actual, t, sd)
        judgement = run(changed, mean, sd, horizon, expected_mase=EXPECTED_MASE)
        hits += statistic(judgement, name).fired
        assert judgement.alert and "Alert:" in judgement.why
    assert hits >= 9, name


def test_a_slope_change_alerts_through_the_bias_checks():
    for seed in range(10):
        actual, mean, sd, horizon = local_level_path(seed)
        judgement = run(actual + SIGMA * 0.5 * np.arange(len(actual)), mean, sd, horizon, expected_mase=EXPECTED_MASE)
        assert {"bias", "cusum_bias"} & {c.name for c in judgement.checks if c.fired}


def trending_weekly(days: int, seed: int, noisier: float = 1.0) -> pd.Series:
    """Daily sales growing 50% a year, weekly pattern, 8% noise (`noisier` times that in the last W days)."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    weekly = np.array([0.15, 0.1, 0.05, 0.0, 0.1, -0.25, -0.15])
    index = pd.date_range("2023-01-02", periods=days, freq="D")
    noise = rng.normal(0, 0.08, days)
    noise[-W:] *= noisier
    y = 1000 * 1.5 ** (t / 365) * (1 + weekly[index.day_of_week]) * (1 + noise)
    series = pd.Series(y, index=index)
    series.index.freq = "D"
    return series


def test_spread_sees_the_noise_grow_and_not_the_trend_or_the_week():
    limit = th.thresholds_for("D")["spread"]
    stable = [spread(trending_weekly(200, seed).to_numpy(), W) for seed in range(10)]
    noisier = [spread(trending_weekly(200, seed, noisier=3.0).to_numpy(), W) for seed in range(10)]
    assert max(stable) < limit, stable
    assert sum(x > limit for x in noisier) >= 9, noisier
    actual, mean, sd, horizon = local_level_path(0)
    assert not statistic(run(actual, mean, sd, horizon, spread_value=max(stable)), "spread").fired
    judgement = run(actual, mean, sd, horizon, spread_value=max(noisier))
    assert statistic(judgement, "spread").fired and "day-to-day swings grew" in judgement.why
    assert spread(trending_weekly(80, 0).to_numpy(), W) is None  # less than 8 weeks before the window
    assert spread(np.zeros(200), W) is None  # no spread to compare


@pytest.fixture(scope="module")
def trending_champion():
    """A stable series growing 50% a year and the ETS champion fitted on all but its last 28 days."""
    y = trending_weekly(400, seed=4)
    _, model = auto_ets(y.iloc[:-W], "D")
    return y, model.predict(W, levels=STORED_LEVELS)


def judge_frame(y: pd.Series, served: pd.DataFrame):
    actual = y.iloc[-W:].to_numpy()
    sd = path_sd({c: served[c].to_numpy() for c in served.columns}, list(STORED_LEVELS))
    days = ServedDays(
        actual,
        {c: served[c].to_numpy() for c in served.columns},
        list(STORED_LEVELS),
        np.array([d.toordinal() for d in served.index]),
        np.asarray(served.index.day_of_week),
        (np.arange(1, W + 1), np.zeros(W, dtype=int), [sd]),
    )
    return judge(days, fam="D", spread_value=spread(y.to_numpy(), W))


def test_a_stable_trending_series_is_quiet_under_its_champion(trending_champion):
    y, served = trending_champion
    judgement = judge_frame(y, served)
    assert {c.name for c in judgement.checks} == set(th.thresholds_for("D")) - {"mase_ratio"}  # no backtest
    assert not judgement.alert, [(c.name, c.statistic, c.threshold) for c in judgement.checks]


def test_the_same_trending_series_shifted_alerts_with_the_why(trending_champion):
    y, served = trending_champion
    shifted = y.copy()
    shifted.iloc[-W:] *= 1.25
    judgement = judge_frame(shifted, served)
    assert judgement.alert
    assert judgement.why.startswith("The last 28 days were ")
    assert "above what the champion forecast; its 95% interval covered" in judgement.why and "Alert:" in judgement.why
