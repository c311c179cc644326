"""Champion/challenger decision: margin on mean MASE plus a paired one-sided test on the same windows."""

from __future__ import annotations

import numpy as np
from scipy.stats import wilcoxon

MARGIN = 0.02  # challenger's mean MASE must be at least 2% below the champion's
ALPHA = 0.10  # significance of the one-sided Wilcoxon signed-rank test on per-window MASE
MIN_WINDOWS_FOR_TEST = 5  # with fewer windows the exact test cannot reach ALPHA convincingly

RULE = (
    f"promote the challenger only if its mean MASE over the same backtest windows is at least "
    f"{MARGIN:.0%} below the champion's, and, when there are at least {MIN_WINDOWS_FOR_TEST} windows, "
    f"a one-sided Wilcoxon signed-rank test on per-window MASE (challenger < champion) gives p <= {ALPHA}"
)


def _side(spec: dict | None, summary: dict | None) -> dict | None:
    if summary is None:
        return None
    return {"spec": spec, "metrics": {k: v for k, v in summary.items() if k != "per_window_mase"}}


def decide(
    challenger_spec: dict,
    challenger: dict,
    champion_spec: dict | None,
    champion: dict | None,
    champion_error: str | None = None,
) -> dict:
    """JSON-able decision: promote flag, rule text, reason, both sides' metrics and per-window errors."""
    out = {
        "rule": RULE,
        "margin": MARGIN,
        "alpha": ALPHA,
        "challenger": _side(challenger_spec, challenger),
        "champion": _side(champion_spec, champion),
        "per_window_mase": {"challenger": challenger.get("per_window_mase", []), "champion": None},
        "test": None,
    }
    if champion_spec is None:
        return {**out, "promote": True, "reason": "no champion yet: the first model is promoted"}
    if champion is None:
        reason = f"champion spec could not be evaluated ({champion_error}); challenger promoted"
        return {**out, "promote": True, "reason": reason}
    a = np.asarray(challenger["per_window_mase"], dtype=float)
    b = np.asarray(champion["per_window_mase"], dtype=float)
    out["per_window_mase"]["champion"] = b.tolist()
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
