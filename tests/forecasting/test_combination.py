"""The combination's interval: the law of total variance over its members, from arrays and from fitted models."""

from __future__ import annotations

import copy

import numpy as np

from shared.forecasting import fit_spec, select_model
from shared.forecasting.combination import combine


def _member(mean: float, lo80: float, hi80: float, lo95: float, hi95: float) -> tuple[np.ndarray, dict]:
    return np.array([mean]), {80.0: (np.array([lo80]), np.array([hi80])), 95.0: (np.array([lo95]), np.array([hi95]))}


def test_members_that_disagree_widen_the_interval_beyond_their_average_bounds():
    # means 10 and 14: spread (variance of the means) 4; 95% distances below 2 and 3, above 3 and 2
    a = _member(10.0, 8.5, 12.0, 8.0, 13.0)
    b = _member(14.0, 12.0, 15.5, 11.0, 16.0)
    mean, bounds = combine([a, b])
    assert mean[0] == 12.0
    # 12 -/+ sqrt((2^2 + 3^2) / 2 + 1.95996^2 x 4), by hand
    np.testing.assert_allclose([bounds[95.0][0][0], bounds[95.0][1][0]], [7.3239081186554, 16.6760918813446])
    # 80%: below 1.5 and 2 -> 12 - sqrt((1.5^2 + 2^2) / 2 + 1.28155^2 x 4)
    np.testing.assert_allclose(bounds[80.0][0][0], 8.886401172180452)
    averaged = (np.mean([8.0, 11.0]), np.mean([13.0, 16.0]))
    assert bounds[95.0][0][0] < averaged[0] - 2 and bounds[95.0][1][0] > averaged[1] + 2
    assert bounds[95.0][0][0] < bounds[80.0][0][0] < mean[0] < bounds[80.0][1][0] < bounds[95.0][1][0]


def test_identical_members_keep_their_asymmetric_bounds_exactly():
    rng = np.random.default_rng(3)
    mean = rng.normal(100, 10, 6)
    below, above = rng.uniform(1, 5, 6), rng.uniform(5, 20, 6)
    part = (mean, {80.0: (mean - below, mean + above), 95.0: (mean - 2 * below, mean + 2 * above)})
    out_mean, bounds = combine([copy.deepcopy(part) for _ in range(3)])
    np.testing.assert_allclose(out_mean, mean, rtol=1e-14)
    for level in (80.0, 95.0):
        np.testing.assert_allclose(bounds[level][0], part[1][level][0], rtol=1e-12)
        np.testing.assert_allclose(bounds[level][1], part[1][level][1], rtol=1e-12)


def test_asymmetric_members_keep_lower_and_upper_distances_apart():
    # equal means: no spread, so each side is the root mean square of the members' distances on that side
    a = _member(50.0, 49.0, 58.0, 48.0, 62.0)
    b = _member(50.0, 47.0, 54.0, 46.0, 57.0)
    _, bounds = combine([a, b])
    np.testing.assert_allclose(bounds[95.0][0][0], 50.0 - np.sqrt((2**2 + 4**2) / 2))
    np.testing.assert_allclose(bounds[95.0][1][0], 50.0 + np.sqrt((12**2 + 7**2) / 2))
    np.testing.assert_allclose(bounds[80.0][1][0], 50.0 + np.sqrt((8**2 + 4**2) / 2))


def test_a_fitted_combination_is_wider_than_its_members_average_bounds_where_they_disagree(monthly):
    sel = select_model(monthly)
    spec = {**sel.candidates["combo"]["spec"], "interval": {"method": "model"}}
    combined = fit_spec(monthly, spec).predict(12, levels=(80, 95))
    members = [
        fit_spec(monthly, {**m, "interval": {"method": "model"}}).predict(12, levels=(80, 95)) for m in spec["members"]
    ]
    np.testing.assert_allclose(combined["mean"], np.mean([m["mean"] for m in members], axis=0))
    disagree = np.std([m["mean"] for m in members], axis=0) > 1e-6 * combined["mean"].abs()
    assert disagree.any()
    for level in (80, 95):
        averaged_lo = np.mean([m[f"lower_{level}"] for m in members], axis=0)
        averaged_hi = np.mean([m[f"upper_{level}"] for m in members], axis=0)
        assert np.all(combined[f"lower_{level}"][disagree] < averaged_lo[disagree])
        assert np.all(combined[f"upper_{level}"][disagree] > averaged_hi[disagree])
    assert np.all(combined["lower_95"] <= combined["lower_80"]) and np.all(combined["upper_80"] <= combined["upper_95"])
    # the backtest windows the calibration reads are built by the same rule
    window = sel.windows["combo"]
    parts = [sel.windows[m["name"]] for m in spec["members"]]
    lows = np.mean([p.bounds[0][95.0][0] for p in parts], axis=0)
    spread = np.std([p.means[0] for p in parts], axis=0) > 0
    assert spread.any() and np.all(window.bounds[0][95.0][0][spread] < lows[spread])
