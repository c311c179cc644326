"""Exponential smoothing (ETS): automatic form choice by AICc, forecasts and simulated intervals."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd

from .base import Bounds, Forecaster, normal_bounds
from .etscore import EtsLikelihood
from .frequency import season_length
from .private_api import DATA_ERRORS

logger = logging.getLogger(__name__)

MAX_SEASON = 24  # seasonal ETS needs one state per season; beyond this the fit is not identified well
SIMULATION_PATHS = 2000
SIMULATION_SEED = 20240531
REFINE_TOP = 3  # forms refitted with estimated initial states after the heuristic-state ranking


def _sign(kind: str | None) -> str:
    return {"add": "A", "mul": "M", None: "N"}[kind]


def short_name(spec: dict) -> str:
    """Form label such as ETS(M,Ad,A)."""
    trend = _sign(spec["trend"]) + ("d" if spec.get("damped") else "")
    return f"ETS({_sign(spec['error'])},{trend},{_sign(spec['seasonal'])})"


class EtsFit(Forecaster):
    """Fitted ETS: smoothing parameters, last states and the innovation spread."""

    def __init__(self, spec: dict, params: dict, state: dict, last_date, freq: str) -> None:
        super().__init__(spec, params, last_date, freq)
        self.state = state

    def _point(self, h: int) -> np.ndarray:
        p, s = self.params, self.state
        steps = np.arange(1, h + 1)
        phi = p["phi"]
        if self.spec["trend"] is None:
            damp = np.zeros(h)
        elif self.spec.get("damped"):
            damp = np.cumsum(phi**steps)
        else:
            damp = steps.astype(float)
        base = s["level"] + damp * s["trend"]
        if self.spec["seasonal"] is None:
            return base
        season = s["season"][(steps - 1) % len(s["season"])]
        return base + season if self.spec["seasonal"] == "add" else base * season

    def _linear_sd(self, h: int) -> np.ndarray:
        """Analytic forecast standard deviation of additive-error, additive-component forms."""
        p = self.params
        j = np.arange(1, h)
        c = np.full(h - 1, p["alpha"])
        if self.spec["trend"] is not None:
            c = c + p["beta"] * (np.cumsum(p["phi"] ** j) if self.spec.get("damped") else j)
        if self.spec["seasonal"] is not None:
            c = c + p["gamma"] * (j % len(self.state["season"]) == 0)
        var = p["sigma2"] * np.concatenate([[1.0], 1 + np.cumsum(c**2)])
        return np.sqrt(var)

    def _simulate(self, h: int) -> np.ndarray:
        """Sample paths (paths x h) from the fitted state-space model, with a fixed seed."""
        p, s, spec = self.params, self.state, self.spec
        rng = np.random.default_rng(SIMULATION_SEED)
        n = SIMULATION_PATHS
        alpha, phi = p["alpha"], p["phi"]
        beta_star = p["beta"] / alpha if spec["trend"] is not None else 0.0
        gamma_star = p["gamma"] / (1 - alpha) if spec["seasonal"] is not None else 0.0
        level = np.full(n, s["level"])
        trend = np.full(n, s["trend"])
        season = np.tile(s["season"], (n, 1)) if spec["seasonal"] is not None else None
        sigma = np.sqrt(p["sigma2"])
        paths = np.empty((n, h))
        for t in range(h):
            tb = (phi if spec.get("damped") else 1.0) * trend if spec["trend"] is not None else 0.0
            base = level + tb
            old = season[:, t % season.shape[1]] if season is not None else None
            if spec["seasonal"] == "add":
                mu = base + old
            elif spec["seasonal"] == "mul":
                mu = base * old
            else:
                mu = base
            eps = rng.standard_normal(n) * sigma
            y = mu + eps if spec["error"] == "add" else mu * (1 + eps)
            if spec["seasonal"] == "mul":
                new_level = alpha * y / old + (1 - alpha) * base
            elif spec["seasonal"] == "add":
                new_level = alpha * (y - old) + (1 - alpha) * base
            else:
                new_level = alpha * y + (1 - alpha) * base
            if spec["trend"] is not None:
                trend = beta_star * (new_level - level) + (1 - beta_star) * tb
            if spec["seasonal"] == "mul":
                season[:, t % season.shape[1]] = gamma_star * y / new_level + (1 - gamma_star) * old
            elif spec["seasonal"] == "add":
                season[:, t % season.shape[1]] = gamma_star * (y - new_level) + (1 - gamma_star) * old
            level = new_level
            paths[:, t] = y
        return paths

    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        mean = self._point(h)
        linear = self.spec["error"] == "add" and self.spec["seasonal"] != "mul" and self.spec["trend"] != "mul"
        if linear:
            return mean, normal_bounds(mean, self._linear_sd(h), levels)
        probs = [p for level in levels for p in (0.5 - level / 200, 0.5 + level / 200)]
        quantiles = np.quantile(self._simulate(h), probs, axis=0)  # one sort for every level
        return mean, {level: (quantiles[2 * i], quantiles[2 * i + 1]) for i, level in enumerate(levels)}


def fitted(core: EtsLikelihood, spec: dict, est: dict, last_date) -> EtsFit:
    """EtsFit of a form from one of its likelihood estimates."""
    params, state = core.final(est)
    return EtsFit({**spec, "period": core.m}, params, state, last_date, spec["freq"])


class Ets:
    """ETS model of the form in the spec (error, trend, damped, seasonal), fitted by maximum likelihood."""

    name = "ets"

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def fit(self, y: pd.Series, previous: Forecaster | None = None) -> EtsFit:
        """Joint ML fit from the default starting values.

        `previous` (this spec fitted on a prefix of y) is deliberately not used as a start: a smoothing
        parameter that sat on its bound in the previous window keeps the fit there even when the longer
        series has a better optimum inside (seen on AdventureWorks), so every window starts afresh.
        """
        spec = {**self.spec, "name": self.name}
        m = int(spec.get("period") or 1) if spec["seasonal"] else 1
        core = EtsLikelihood(
            y.to_numpy(dtype=float), spec["error"], spec["trend"], bool(spec.get("damped")), spec["seasonal"], m
        )
        return fitted(core, spec, core.estimate(joint=True, previous=core.direct()), y.index[-1])


def admissible_forms(y: np.ndarray, m: int) -> list[dict]:
    """ETS forms worth fitting: multiplicative parts only for positive data, seasonal only if identifiable.

    Additive error with multiplicative season is excluded (numerically unstable, as in Hyndman et al.).
    """
    positive = bool(np.all(y > 0))
    seasonal_ok = 1 < m <= MAX_SEASON and len(y) >= 2 * m + 2
    errors = ["add", "mul"] if positive else ["add"]
    seasons: list[str | None] = [None] + (["add", "mul" if positive else None] if seasonal_ok else [])
    trends = [(None, False), ("add", False), ("add", True)]
    forms = []
    for error, (trend, damped), seasonal in itertools.product(errors, trends, dict.fromkeys(seasons)):
        if error == "add" and seasonal == "mul":
            continue
        n_states = 1 + (trend is not None) + (m if seasonal else 0)
        n_par = n_states + 1 + (trend is not None) + (seasonal is not None) + damped
        if len(y) <= n_par + 2:
            continue
        forms.append({"error": error, "trend": trend, "damped": damped, "seasonal": seasonal})
    return forms


def auto_ets_spec(y: pd.Series, freq: str) -> dict:
    """Spec of `auto_ets` (the chosen form), without its fitted model."""
    return auto_ets(y, freq)[0]


def auto_ets(y: pd.Series, freq: str) -> tuple[dict, EtsFit]:
    """Rank admissible ETS forms by AICc with heuristic initial states, then fit the best few fully.

    The final choice is the lowest AICc, after the joint fit of smoothing parameters and initial states,
    among the top `REFINE_TOP` forms and the best-ranked form of each seasonal type (none, A, M).
    """
    m = season_length(freq)
    values = y.to_numpy(dtype=float)
    ranked = []
    for form in admissible_forms(values, m):
        spec = {"name": Ets.name, "freq": freq, "period": m if form["seasonal"] else 1, **form}
        try:
            core = EtsLikelihood(values, form["error"], form["trend"], form["damped"], form["seasonal"], m)
            est = core.estimate(joint=False)
            score = core.final(est)[0]["aicc"]
        except DATA_ERRORS as exc:  # a form the data cannot support is skipped; an engine fault propagates
            logger.info("ETS form %s not fitted: %s", short_name(spec), exc)
            continue
        if np.isfinite(score):
            ranked.append((score, spec, core, est))
    if not ranked:
        raise ValueError("no ETS form could be fitted")
    ranked.sort(key=lambda item: item[0])
    refine = ranked[:REFINE_TOP]
    for kind in ("add", "mul", None):  # heuristic states favour some seasonal types: keep each type's best
        best_of_kind = next((item for item in ranked if item[1]["seasonal"] == kind), None)
        if best_of_kind is not None and all(best_of_kind is not item for item in refine):
            refine.append(best_of_kind)
    end = y.index[-1]
    fits = [(fitted(core, spec, core.estimate(joint=True, previous=est), end), spec) for _, spec, core, est in refine]

    def by_aicc(item) -> float:  # a non-finite AICc ranks last; if all are, the best-ranked form stays
        value = item[0].params["aicc"]
        return value if np.isfinite(value) else np.inf

    best_fit, best = min(fits, key=by_aicc)
    best_aicc = best_fit.params["aicc"]
    spec = {**best, "search": {"aicc": best_aicc, "forms_fitted": len(ranked), "form": short_name(best)}}
    best_fit.spec = {**best_fit.spec, "search": spec["search"]}
    return spec, best_fit
