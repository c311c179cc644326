"""ETS likelihood on statsmodels' compiled ETS smoothers, maximized in two stages for speed.

Stage 1 keeps the initial states at the classical heuristic (first seasons) and fits only the smoothing
parameters; stage 2 fits smoothing parameters and initial states jointly, starting from stage 1. The
concentrated likelihood is written as a sum of squares (multiplicative errors scaled by the geometric mean
of the one-step forecasts), so a bounded Levenberg-Marquardt solver (`optim.minimize_squares`) needs few
iterations. The statsmodels `ETSModel.fit` path does the same joint fit with L-BFGS-B but costs
about 1 s per seasonal monthly fit on this machine, too slow for selection in batches.
"""

from __future__ import annotations

import numpy as np

from .criteria import aicc, gaussian_loglik
from .optim import minimize_squares
from .private_api import ets_smooth as smooth

SMOOTHING_BOUNDS = (1e-4, 0.9999)  # alpha, beta* = beta/alpha and gamma* = gamma/(1-alpha), as in statsmodels
DAMPING_BOUNDS = (0.8, 0.98)
START = {"alpha": 0.2, "beta": 0.1, "gamma": 0.1, "phi": 0.95}
PENALTY = 1e12  # squared residual for parameter sets that make a multiplicative model undefined
TOLERANCE = 1e-4  # relative change in the sum of squares / parameters at which the joint fit stops (bench/README.md)
RANKING_TOLERANCE = 1e-4  # looser for stage 1, whose likelihood only ranks forms


class EtsLikelihood:
    """Negative log-likelihood of one ETS form on one series, and its maximization."""

    def __init__(self, y: np.ndarray, error: str, trend: str | None, damped: bool, seasonal: str | None, m: int):
        if (error == "mul" or seasonal == "mul") and np.any(y <= 0):
            raise ValueError("multiplicative ETS needs strictly positive data")
        if seasonal and len(y) < 2 * m:
            raise ValueError(f"seasonal ETS needs two full seasons ({2 * m} points), got {len(y)}")
        self.y = np.array(y, dtype=float)  # a writable copy: the compiled smoother needs one
        self.error, self.trend, self.damped, self.seasonal = error, trend, bool(damped and trend), seasonal
        self.m = m if seasonal else 1
        n = len(y)
        self.func = smooth._ets_smooth_add_mul if seasonal == "mul" else smooth._ets_smooth_add_add
        self.yhat = np.zeros(n)
        self.xhat = np.zeros((n, 2 + self.m))
        self.is_fixed = np.zeros(6 + self.m, dtype=np.int64)
        self.fixed_values = np.zeros(6 + self.m)
        self.bad = np.full(n, np.sqrt(PENALTY))
        self.names = ["alpha"] + ["beta"] * bool(trend) + ["gamma"] * bool(seasonal) + ["phi"] * self.damped
        self.slots = [("alpha", "beta", "gamma", "phi").index(name) for name in self.names]  # places in `internal`
        self.scale = float(np.std(y)) or float(np.mean(np.abs(y))) or 1.0
        self.level0, self.trend0, self.season0 = self._heuristic_states()

    def _heuristic_states(self) -> tuple[float, float, np.ndarray]:
        """Initial level, trend and seasonal states from the first seasons (Hyndman & Athanasopoulos 8.6)."""
        y, m = self.y, self.m
        if not self.seasonal:
            k = min(len(y), 10)
            slope, intercept = np.polyfit(np.arange(k), y[:k], 1) if k >= 2 else (0.0, y[0])
            if not self.trend:
                return float(intercept), 0.0, np.zeros(1)
            return float(intercept - slope), float(slope), np.zeros(1)
        cycles = min(len(y) // m, 3)
        block = y[: cycles * m].reshape(cycles, m)
        means = block.mean(axis=1)
        slope = float((means[-1] - means[0]) / ((cycles - 1) * m)) if cycles > 1 and self.trend else 0.0
        # Each cycle's values against its own (trend-adjusted) mean, averaged over the first cycles.
        local = means[:, None] + slope * (np.arange(m)[None, :] - (m - 1) / 2)
        ratios = block / local if self.seasonal == "mul" else block - local
        season = ratios.mean(axis=0)
        season = season / season.mean() if self.seasonal == "mul" else season - season.mean()
        level = float(means[0])
        return level - slope * (m + 1) / 2 if self.trend else level, slope, season

    def internal(self, smoothing: np.ndarray, level: float, trend: float, season: np.ndarray) -> np.ndarray:
        """statsmodels' internal vector (alpha, beta*, gamma*, phi, l, b, s[-1], ..., s[-m])."""
        vec = np.empty(6 + len(season))
        vec[:4] = (0.0, 0.0, 0.0, 1.0)  # beta*, gamma* and phi of a form without them
        vec[self.slots] = smoothing
        vec[4], vec[5] = level, trend
        vec[6:] = season[::-1]
        return vec

    def residuals(self, vec: np.ndarray) -> np.ndarray:
        """Vector z with n/2 log(sum(z^2) / n) equal to the negative concentrated log-likelihood."""
        self.func(vec, self.y, self.yhat, self.xhat, self.is_fixed, self.fixed_values, True, True)
        if self.error == "mul":
            if (self.yhat <= 0).any():
                return self.bad
            # The geometric mean as sum / n: ndarray.mean adds Python overhead to every likelihood evaluation.
            z = (self.y - self.yhat) / self.yhat * np.exp(np.log(self.yhat).sum() / len(self.yhat))
        else:
            z = self.y - self.yhat
        return z if np.isfinite(z).all() else self.bad

    def nll(self, vec: np.ndarray) -> float:
        """Negative concentrated log-likelihood (constants dropped) of an internal parameter vector."""
        z = self.residuals(vec)
        return float(0.5 * len(z) * np.log(max(z @ z / len(z), 1e-300)))

    def _bounds(self) -> list[tuple[float, float]]:
        return [DAMPING_BOUNDS if name == "phi" else SMOOTHING_BOUNDS for name in self.names]

    def _season_from_free(self, free: np.ndarray) -> np.ndarray:
        """All m seasonal states from m-1 free ones, normalized to sum 0 (additive) or mean 1 (multiplicative)."""
        if not self.seasonal:
            return np.zeros(1)
        out = np.empty(len(free) + 1)
        out[:-1] = free
        out[-1] = self.m - free.sum() if self.seasonal == "mul" else -free.sum()
        return out

    def estimate(self, joint: bool = True, previous: dict | None = None) -> dict:
        """Maximum-likelihood smoothing parameters (and, if `joint`, initial states).

        `previous` is a stage-1 estimate of this same likelihood to continue from; `direct()` builds one
        from the default starting values, for a joint fit without the stage-1 pass.
        """
        bounds = self._bounds()
        trend0 = self.trend0 if self.trend else 0.0
        lower = np.array([b[0] for b in bounds])
        upper = np.array([b[1] for b in bounds])
        if previous is None:
            start = np.array([START[name] for name in self.names])
            x = minimize_squares(
                lambda x: self.residuals(self.internal(x, self.level0, trend0, self.season0)) / self.scale,
                start,
                bounds=(lower, upper),
                tol=RANKING_TOLERANCE,
            )
            smoothing = np.clip(x, lower, upper)
            fun = self.nll(self.internal(smoothing, self.level0, trend0, self.season0))
        else:
            smoothing, fun = previous["smoothing"], previous["nll"]
        level, trend, season = self.level0, trend0, self.season0
        if joint:
            k = len(self.names)
            s_scale = 1.0 if self.seasonal == "mul" else self.scale
            n_season = self.m - 1 if self.seasonal else 0

            def unpack(x):
                lvl = self.level0 + x[k] * self.scale
                trd = trend0 + x[k + 1] * self.scale / max(self.m, 1) if self.trend else 0.0
                free = self.season0[:n_season] + x[len(x) - n_season :] * s_scale if n_season else np.zeros(0)
                return lvl, trd, self._season_from_free(free) if self.seasonal else np.zeros(1)

            n_states = 1 + bool(self.trend) + n_season
            x0 = np.concatenate([smoothing, np.zeros(n_states)])
            x2 = minimize_squares(
                lambda x: self.residuals(self.internal(x[:k], *unpack(x))) / self.scale,
                x0,
                bounds=(np.r_[lower, np.full(n_states, -np.inf)], np.r_[upper, np.full(n_states, np.inf)]),
                tol=TOLERANCE,
            )
            candidate = np.clip(x2[:k], lower, upper)
            states = unpack(x2)
            if self.nll(self.internal(candidate, *states)) <= fun:
                smoothing = candidate
                level, trend, season = states
        vec = self.internal(smoothing, level, trend, season)
        nll = self.nll(vec)
        return {"vec": vec, "nll": nll, "joint": joint, "smoothing": smoothing}

    def direct(self) -> dict:
        """Starting point for a joint fit straight from the default smoothing values and heuristic states."""
        return {"smoothing": np.array([START[name] for name in self.names]), "nll": np.inf}

    def n_params(self) -> int:
        """Estimated parameters counted for AICc: smoothing, initial states and the innovation variance."""
        season = self.m - 1 if self.seasonal else 0
        return len(self.names) + 1 + bool(self.trend) + season + 1

    def final(self, est: dict) -> tuple[dict, dict]:
        """Parameters (with sigma2, log-likelihood and AICc) and last states of an estimate.

        Re-smooths with the final parameters to read the last states; the fitted model is built from
        these by `ets.py`.
        """
        vec = est["vec"]
        self.nll(vec)
        n = len(self.y)
        if self.error == "mul" and np.any(self.yhat <= 0):
            raise ValueError("multiplicative ETS fit produced non-positive one-step forecasts")
        resid = (self.y - self.yhat) / self.yhat if self.error == "mul" else self.y - self.yhat
        sigma2 = float(np.mean(resid**2))
        loglik = gaussian_loglik(sigma2, n)
        if self.error == "mul":
            loglik -= float(np.sum(np.log(self.yhat)))
        alpha = float(vec[0])
        params = {
            "alpha": alpha,
            "beta": float(vec[1] * alpha) if self.trend else 0.0,
            "gamma": float(vec[2] * (1 - alpha)) if self.seasonal else 0.0,
            "phi": float(vec[3]) if self.damped else 1.0,
            "sigma2": sigma2,
            "loglik": float(loglik),
            "aicc": aicc(loglik, n, self.n_params()),
            "initial_level": float(vec[4]),
            "initial_trend": float(vec[5]),
            "initial_season": [float(v) for v in vec[6:][::-1]] if self.seasonal else [],
        }
        last = self.xhat[n - 1]
        state = {
            "level": float(last[0]),
            "trend": float(last[1]) if self.trend else 0.0,
            "season": last[2 : 2 + self.m][::-1].copy() if self.seasonal else np.zeros(1),
        }
        if not np.all(np.isfinite([params["alpha"], sigma2, state["level"], state["trend"]])):
            raise ValueError("ETS fit produced non-finite values")
        return params, state
