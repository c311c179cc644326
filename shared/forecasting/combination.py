"""Equal-weight combination of fitted candidates: mean of means, interval bounds averaged per level."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .base import Bounds, Forecaster


def combine(parts: list[tuple[np.ndarray, Bounds]]) -> tuple[np.ndarray, Bounds]:
    """Average the means and, level by level, the lower and upper bounds of several forecasts."""
    mean = np.mean([p[0] for p in parts], axis=0)
    levels = parts[0][1].keys()
    bounds = {
        level: (
            np.mean([p[1][level][0] for p in parts], axis=0),
            np.mean([p[1][level][1] for p in parts], axis=0),
        )
        for level in levels
    }
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
