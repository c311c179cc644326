"""The least-squares solver every ARIMA and ETS fit uses (shared.forecasting.optim)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

from shared.forecasting import optim

T = np.linspace(0.0, 4.0, 40)
Y = 2.5 * np.exp(-0.7 * T) + 0.3 + 0.01 * np.sin(7 * T)  # a decay with a small wiggle: a nonlinear fit


def decay(x: np.ndarray) -> np.ndarray:
    return x[0] * np.exp(-x[1] * T) + x[2] - Y


def test_an_unbounded_fit_takes_minpacks_iterates_as_least_squares_lm_does():
    start = np.array([1.0, 0.1, 0.0])
    ours = optim.minimize_squares(decay, start, tol=1e-6)
    scipy_lm = least_squares(decay, start, method="lm", ftol=1e-6, xtol=1e-6, gtol=optim.LM_GTOL, x_scale="jac")
    np.testing.assert_allclose(ours, scipy_lm.x, rtol=1e-5)
    np.testing.assert_allclose(ours, [2.5, 0.7, 0.3], atol=0.02)


def test_a_bounded_fit_with_an_interior_optimum_finds_it():
    lower, upper = np.array([0.0, 0.0, -1.0]), np.array([10.0, 5.0, 1.0])
    x = optim.minimize_squares(decay, np.array([1.0, 0.1, 0.0]), bounds=(lower, upper), tol=1e-8)
    free = optim.minimize_squares(decay, np.array([1.0, 0.1, 0.0]), tol=1e-8)
    np.testing.assert_allclose(x, free, rtol=1e-4)


def test_an_optimum_on_a_bound_is_reached():
    # The unconstrained optimum has x[2] = 0.3; capped at 0.1 the constrained optimum sits on that bound.
    lower, upper = np.array([0.0, 0.0, -1.0]), np.array([10.0, 5.0, 0.1])
    x = optim.minimize_squares(decay, np.array([1.0, 0.1, 0.0]), bounds=(lower, upper), tol=1e-6)
    assert x[2] == pytest.approx(0.1, abs=1e-12)
    reference = least_squares(decay, [1.0, 0.1, 0.0], bounds=(lower, upper), method="trf", ftol=1e-10, xtol=1e-10)
    assert np.sum(decay(x) ** 2) <= np.sum(decay(reference.x) ** 2) * (1 + 1e-6)


def test_a_bounded_fit_never_evaluates_or_returns_a_point_outside_the_box():
    lower, upper = np.array([0.5, 0.2, 0.0]), np.array([1.5, 0.5, 0.2])
    seen = []

    def watched(x):
        seen.append(np.array(x))
        return decay(x)

    # The start is on the lower bounds and the unconstrained optimum is outside the box in every coordinate;
    # on the logistic scale alone the first and third coordinates would stop short of their upper bounds.
    x = optim.minimize_squares(watched, lower.copy(), bounds=(lower, upper), tol=1e-6)
    points = np.array(seen)
    assert (points >= lower - 1e-12).all() and (points <= upper + 1e-12).all()
    assert (x >= lower).all() and (x <= upper).all()
    np.testing.assert_allclose(x[[0, 2]], upper[[0, 2]], atol=1e-9)  # pushed up against these two bounds


def test_an_unbounded_coordinate_of_a_bounded_problem_is_free():
    lower = np.array([0.0, 0.0, -np.inf])
    upper = np.array([10.0, 5.0, np.inf])
    x = optim.minimize_squares(decay, np.array([1.0, 0.1, 50.0]), bounds=(lower, upper), tol=1e-8)
    np.testing.assert_allclose(x, [2.5, 0.7, 0.3], atol=0.02)


def test_a_start_where_the_residuals_are_not_finite_is_refused():
    with pytest.raises(ValueError, match="not finite"):
        optim.minimize_squares(lambda x: np.array([np.nan, x[0]]), np.array([1.0]))
    with pytest.raises(ValueError, match="not finite"):
        optim.minimize_squares(lambda x: np.array([np.inf, x[0]]), np.array([0.5]), bounds=([0.0], [1.0]))


def test_inverted_or_one_sided_bounds_are_refused():
    with pytest.raises(ValueError, match="below its upper bound"):
        optim.minimize_squares(decay, np.ones(3), bounds=(np.ones(3), np.zeros(3)))
    with pytest.raises(ValueError, match="both sides or on neither"):
        optim.minimize_squares(decay, np.ones(3), bounds=(np.zeros(3), np.array([5.0, 5.0, np.inf])))
