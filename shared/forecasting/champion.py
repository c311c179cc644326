"""The champion rule: the champion scored on the challenger's windows, margin and paired test, and the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import wilcoxon

logger = logging.getLogger(__name__)

MARGIN = 0.02  # challenger's mean MASE must be at least 2% below the champion's
ALPHA = 0.10  # significance of the one-sided Wilcoxon signed-rank test on per-window MASE
MIN_WINDOWS_FOR_TEST = 5  # with fewer windows the exact test cannot reach ALPHA convincingly

RULE = (
    f"promote the challenger only if its mean MASE over the same backtest windows is at least "
    f"{MARGIN:.0%} below the champion's, and, when there are at least {MIN_WINDOWS_FOR_TEST} windows, "
    f"a one-sided Wilcoxon signed-rank test on per-window MASE (challenger < champion) gives p <= {ALPHA}"
)
REPLACES_FALLBACK = "the champion is a cold-start fallback: the first full selection replaces it"
COLD_START_RULE = "cold start: a series with no backtest window is served the fallback forecast"


@dataclass(frozen=True)
class ChampionScore:
    """The champion's backtest on the challenger's windows and its refit, or why it could not be evaluated."""

    summary: dict | None = None
    model: Any = None  # the champion's form refitted on all data, recalibrated (a Forecaster)
    error: str | None = None


def score_champion(champion_spec: dict, evaluate: Callable[[dict], tuple[dict, Any]]) -> ChampionScore:
    """Run `evaluate` (the backtest on the challenger's windows); a champion that no longer fits is logged."""
    try:
        summary, model = evaluate(champion_spec)
    except Exception as exc:  # a champion that no longer fits is logged and replaced
        logger.warning("champion spec %s could not be evaluated: %s", champion_spec.get("name"), exc)
        return ChampionScore(error=f"{type(exc).__name__}: {exc}")
    return ChampionScore(summary, model)


def cold_start_decision(reason: str) -> dict:
    """Without a backtest window there is nothing to compare: the fallback forecast is promoted, champion or not.

    The data may have shrunk (older data beyond a long gap is left out of training), and a champion cannot
    be refitted on fewer points than a window; its forecast would start before the new last day.
    """
    return {"promote": True, "rule": COLD_START_RULE, "reason": reason}


def _side(spec: dict | None, summary: dict | None) -> dict | None:
    if summary is None:
        return None
    return {"spec": spec, "metrics": {k: v for k, v in summary.items() if k != "per_window_mase"}}


def decide_promotion(
    challenger_spec: dict,
    challenger: dict,
    champion_spec: dict | None,
    champion: dict | None,
    champion_error: str | None = None,
    *,
    replaces_fallback: bool = False,
) -> dict:
    """JSON-able decision: promote flag, rule text, reason, both sides' metrics and per-window errors.

    No champion, a champion that could not be evaluated, or a cold-start fallback champion (`replaces_fallback`)
    promotes the challenger; a challenger without backtest windows keeps the champion.
    """
    out = {
        "rule": RULE,
        "margin": MARGIN,
        "alpha": ALPHA,
        "challenger": _side(challenger_spec, challenger),
        "champion": _side(champion_spec, champion),
        "per_window_mase": {"challenger": challenger.get("per_window_mase", []), "champion": None},
        "test": None,
    }
    if replaces_fallback:
        return {**out, "promote": True, "reason": REPLACES_FALLBACK}
    if champion_spec is None:
        return {**out, "promote": True, "reason": "no champion yet: the first model is promoted"}
    if champion is None:
        reason = f"champion spec could not be evaluated ({champion_error}); challenger promoted"
        return {**out, "promote": True, "reason": reason}
    a = np.asarray(challenger["per_window_mase"], dtype=float)
    b = np.asarray(champion["per_window_mase"], dtype=float)
    out["per_window_mase"]["champion"] = b.tolist()
    if len(a) == 0:
        return {**out, "promote": False, "reason": "the challenger has no backtest window: the champion is kept"}
    mean_a, mean_b = float(a.mean()), float(b.mean())
    improvement = 1 - mean_a / mean_b if mean_b > 0 else 0.0
    out["improvement"] = improvement
    if not improvement >= MARGIN:
        reason = f"challenger mean MASE {mean_a:.4f} is not {MARGIN:.0%} below champion's {mean_b:.4f}"
        return {**out, "promote": False, "reason": reason}
    if len(a) >= MIN_WINDOWS_FOR_TEST:
        diff = a - b
        p_value = 1.0 if np.all(diff == 0) else float(wilcoxon(a, b, alternative="less", zero_method="zsplit").pvalue)
        out["test"] = {"name": "wilcoxon signed-rank, one-sided", "windows": len(a), "p_value": p_value}
        if p_value > ALPHA:
            reason = (
                f"challenger mean MASE {mean_a:.4f} is {improvement:.1%} below champion's {mean_b:.4f} "
                f"but the paired test is not significant (p={p_value:.3f} > {ALPHA})"
            )
            return {**out, "promote": False, "reason": reason}
    else:
        out["test"] = {"name": "none (too few windows)", "windows": len(a), "p_value": None}
    reason = f"challenger mean MASE {mean_a:.4f} is {improvement:.1%} below champion's {mean_b:.4f}"
    return {**out, "promote": True, "reason": reason}


@dataclass(frozen=True)
class Outcome:
    """What a retrain publishes: `name` on the card, the pointer's reason, and which model is served."""

    name: str  # first-model | promoted | kept-champion
    reason: str
    serve_challenger: bool
    replaced_corrupt: list[dict]


def decide_outcome(decision: dict, champion_version: str | None, corrupt: Sequence = ()) -> Outcome:
    """The outcome of a retrain from the decision and the champion it was made against.

    `champion_version` is the last intact champion (None when there is none); `corrupt` are the damaged
    champions skipped to find it (objects with `version`, `artifact` and `reason`): the pointer's reason
    names the first, and the card lists them all.
    """
    if champion_version is None:
        name, serve, reason = "first-model", True, "first intact model" if corrupt else "first model"
    elif decision.get("promote"):
        name, serve, reason = "promoted", True, f"challenger beat champion {champion_version}"
    else:
        name, serve, reason = "kept-champion", False, f"refresh of champion {champion_version} with new data"
    if corrupt:
        first = corrupt[0]
        reason = f"{reason}; replaces corrupt {first.version} ({first.artifact} {first.reason})"
    replaced = [{"version": c.version, "artifact": c.artifact, "reason": c.reason} for c in corrupt]
    return Outcome(name, reason, serve, replaced)
