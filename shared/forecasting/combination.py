"""Equal-weight combination of fitted candidates: mean of means, interval by the law of total variance."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .base import Bounds, Forecaster, normal_quantile


def combine(parts: list[tuple[np.ndarray, Bounds]]) -> tuple[np.ndarray, Bounds]:
    """Mean of the means; each bound at mean ± sqrt(the members' mean squared distance from their own mean to
    that bound + z² × the variance of the members' means), z the Gaussian quantile of the bound's level.

    The law of total variance for an equal mixture of the members: their disagreement widens the interval,
    identical members keep their bounds exactly. Lower and upper distances are taken separately, so
    asymmetric member intervals stay asymmetric; nested member intervals stay nested (both terms grow
    with the level).
    """
    means = np.array([p[0] for p in parts], dtype=float)
    mean = means.mean(axis=0)
    spread = ((means - mean) ** 2).mean(axis=0)
    bounds = {}
    for level in parts[0][1]:
        between = normal_quantile(level) ** 2 * spread
        below = np.array([m - p[1][level][0] for m, p in zip(means, parts, strict=True)])
        above = np.array([p[1][level][1] - m for m, p in zip(means, parts, strict=True)])
        bounds[level] = (
            mean - np.sqrt((below**2).mean(axis=0) + between),
            mean + np.sqrt((above**2).mean(axis=0) + between),
        )
    return mean, bounds


class CombinationFit(Forecaster):
    """Fitted combination: the members' fitted models, each predicting with its own intervals."""

    def __init__(self, spec: dict, members: list[Forecaster], last_date, freq: str) -> None:
        params = {"members": [{"name": m.spec["name"], **m.params} for m in members]}
        super().__init__(spec, params, last_date, freq)
        self.members = members

    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        return combine([m.forecast_arrays(h, levels) for m in self.members])


class Combination:
    """Mean of the member specs' forecasts (`spec["members"]`), refitted together on the same data.

    `build` turns a member spec into its model (the family factory passes its own `build`, so this module
    does not import the factory).
    """

    name = "combo"

    def __init__(self, spec: dict, build: Callable[[dict], object]) -> None:
        self.spec = spec
        self.build = build

    def fit(self, y: pd.Series, previous: Forecaster | None = None) -> CombinationFit:
        """Fit every member; `previous` (the combination fitted on a prefix of y) warm-starts them."""
        before = previous.members if isinstance(previous, CombinationFit) else [None] * len(self.spec["members"])
        members = [
            self.build(member).fit(y, previous=prev) for member, prev in zip(self.spec["members"], before, strict=True)
        ]
        spec = {**self.spec, "name": self.name, "members": [m.spec for m in members]}
        return CombinationFit(spec, members, y.index[-1], spec["freq"])
