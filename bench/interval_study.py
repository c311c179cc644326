"""Interval calibration rules scored on the held-out bench series at several forecast origins.

One held-out period per series says little about an interval rule: the series of a set share their calendar,
so one shock (a tourism boom, a recession) moves the coverage of every rule together. This study therefore
scores each rule at `--origins`: origin 0 is bench.heldout's split (the last horizon held out), origin k
cuts k more horizons off every series first (AdventureWorks: k x 84 days off bench.accuracy's six
origins), so each origin is another held-out period of the same series. Every rule is formed from the
selection's own backtest windows and fits on the training part only; `--half` picks the series as
bench.heldout does (0: even positions, the calibration half; 1: odd positions, the validation half;
all series without it). A series too short for a backtest at an earlier origin (a cold start) is left out of
that origin. After the table, per origin and set, the 95% coverage by data source (the prefix of the
series' name) of the model intervals and of the engine's calibration.

Rules (each applied to the selected forecast):
- model intervals, uncalibrated;
- the shrunk split-conformal factor of `shared.forecasting.calibration` at several prior weights
  (prior 8 is the engine's);
- horizon-aware: the conformal factor of the early and of the late half of the backtest horizon, their
  log-ratio to the pooled factor shrunk by windows / (windows + prior) and interpolated over the horizon;
- the single scale that minimises the backtest pinball loss of every calibration level, shrunk as above;
- dense windows (`--dense`): the shrunk conformal factor from four times as many backtest origins, one
  period apart, for the selected spec only;
- the previous combination interval: the members' bounds averaged per level instead of the engine's law of
  total variance (`combination.combine`), then the engine's calibration (other selections as the engine).

Columns: per origin and set, 95% coverage and scaled pinball loss (bench.heldout's definitions); last, the
mean over those cells of each rule's SPL relative to the model intervals'.

Usage: python -m bench.interval_study [--half 0] [--origins 0 1 2] [--dense]
"""

from __future__ import annotations

import argparse
import copy
import math
import time

import numpy as np
import pandas as pd

from bench.accuracy import plan_for
from bench.common import adventureworks, run_summary
from bench.heldout import SETUP, averaged, load
from shared.forecasting import calibration, metrics, select_model
from shared.forecasting.backtest import (
    BACKTEST_LEVELS,
    BacktestPlan,
    WindowForecasts,
    forecast_windows,
    min_train,
    plan_windows,
)
from shared.forecasting.base import scale_bounds
from shared.forecasting.families import build, series_freq
from shared.forecasting.selection import strip

SETS = ("D", "MS", "QS", "YS")
AW_SHIFT = 84  # days between AdventureWorks origins: bench.accuracy's six windows span 28 + 5 x 14 days
DENSE_FACTOR = 4  # --dense: this many times the default backtest origins, one period apart
GRID = np.exp(np.linspace(math.log(0.2), math.log(5.0), 161))  # candidate scales for the pinball rule


def shrink(wf: WindowForecasts, prior: float) -> float:
    """Weight of the backtest evidence (`calibration.evidence_weight`)."""
    return calibration.evidence_weight(len(wf.actuals), prior)


def conformal(wf: WindowForecasts, prior: float) -> dict:
    """The engine's rule (`calibration.calibrate`): per level, the conformal factor ** weight."""
    interval = calibration.calibrate(wf, prior_windows=prior)
    return dict(zip(BACKTEST_LEVELS, interval.get("factors", [1.0] * len(BACKTEST_LEVELS)), strict=True))


def _steps(wf: WindowForecasts) -> np.ndarray:
    return np.concatenate([np.arange(1, len(a) + 1) for a in wf.actuals])


def horizon_aware(wf: WindowForecasts, h: int, prior: float, block_prior: float) -> dict:
    """Per level, a factor per horizon step: the pooled shrunk factor times the shrunk early/late profile."""
    steps, last = _steps(wf), max(len(a) for a in wf.actuals)
    cut = (last + 1) / 2
    grid = np.arange(1, last + 1)
    centres = (grid[grid <= cut].mean(), grid[grid > cut].mean()) if last > 1 else (1.0, 1.0)
    w, wb = shrink(wf, prior), shrink(wf, block_prior)
    out = {}
    for lv in BACKTEST_LEVELS:
        k = calibration.needed_factors(wf, lv)
        pooled = calibration.conformal_factor(k, lv)
        if last < 2:
            out[lv] = pooled**w
            continue
        early = math.log(calibration.conformal_factor(k[steps <= cut], lv) / pooled)
        late = math.log(calibration.conformal_factor(k[steps > cut], lv) / pooled)
        profile = np.interp(np.minimum(np.arange(1, h + 1), last), centres, (wb * early, wb * late))
        out[lv] = np.exp(w * math.log(pooled) + profile)
    return out


def pinball_scale(wf: WindowForecasts, prior: float) -> dict:
    """One factor for every level: the scale minimising the backtest pinball loss, ** weight."""
    mean, actual = np.concatenate(wf.means), np.concatenate(wf.actuals)
    scale = np.concatenate([np.full(len(a), s) for a, s in zip(wf.actuals, wf.scales, strict=True)])
    loss = np.zeros(len(GRID))
    for lv in BACKTEST_LEVELS:
        lo, hi = (np.concatenate([b[lv][i] for b in wf.bounds]) for i in (0, 1))
        for tau, bound in (
            (0.5 - lv / 200, mean - GRID[:, None] * (mean - lo)),
            (0.5 + lv / 200, mean + GRID[:, None] * (hi - mean)),
        ):
            d = actual - bound
            loss += (np.maximum(tau * d, (tau - 1) * d) / scale).sum(axis=1)
    return dict.fromkeys(BACKTEST_LEVELS, float(GRID[np.argmin(loss)]) ** shrink(wf, prior))


def averaged_windows(members: list[WindowForecasts]) -> WindowForecasts:
    """The combination's backtest windows under the previous combination interval (`heldout.averaged`: the
    members' means and bounds averaged)."""
    out = WindowForecasts({"name": "combo"}, actuals=members[0].actuals, scales=members[0].scales)
    for i in range(len(members[0].means)):
        mean, bounds = averaged([(m.means[i], m.bounds[i]) for m in members])
        out.means.append(mean)
        out.bounds.append(bounds)
    return out


def dense_windows(sel, y: pd.Series, h: int) -> WindowForecasts:
    """The selected spec backtested at DENSE_FACTOR times the default origins, one period apart."""
    plan = plan_windows(len(y), series_freq(y), h)
    n, first = len(y), min(min(plan.cutoffs), min_train(plan.season))
    cutoffs = (n - plan.horizon - k for k in range(DENSE_FACTOR * len(plan.cutoffs)))
    dense = BacktestPlan(plan.horizon, 1, tuple(sorted(c for c in cutoffs if c >= first)), plan.season)
    return forecast_windows(strip(sel.model.spec), y, dense, build)


def rules(sel, y: pd.Series, h: int, dense: bool) -> dict[str, tuple]:
    """(mean, bounds) per rule for the selected forecast; empty for a cold start (no backtest)."""
    name = sel.backtest["selected"]
    wf = (sel.windows or {}).get(name)
    if wf is None:
        return {}
    mean, bounds = copy.copy(sel.model).with_interval({"method": "model"}).forecast_arrays(h, BACKTEST_LEVELS)

    def scaled(factors: dict) -> tuple:
        return mean, scale_bounds(mean, bounds, factors)

    out = {"model intervals": (mean, bounds)}
    for prior in (4, 8, 16):
        name_of = ENGINE if prior == calibration.PRIOR_WINDOWS else f"conformal, prior {prior}"
        out[name_of] = scaled(conformal(wf, prior))
    for block_prior in (8, 16):
        out[f"horizon-aware, block prior {block_prior}"] = scaled(horizon_aware(wf, h, 8, block_prior))
    out["pinball-optimal scale, prior 8"] = scaled(pinball_scale(wf, 8))
    if dense:
        windows = dense_windows(sel, y, h)
        for prior in (8, 16):
            out[f"dense windows, prior {prior}"] = scaled(conformal(windows, prior))
    members = [m["name"] for m in sel.model.spec.get("members", [])]
    if name == "combo" and all(m in (sel.fits or {}) and m in sel.windows for m in members):
        parts = [
            copy.copy(sel.fits[m]).with_interval({"method": "model"}).forecast_arrays(h, BACKTEST_LEVELS)
            for m in members
        ]
        avg_mean, avg_bounds = averaged(parts)
        factors = conformal(averaged_windows([sel.windows[m] for m in members]), calibration.PRIOR_WINDOWS)
        out[AVERAGED] = (avg_mean, scale_bounds(avg_mean, avg_bounds, factors))
    else:
        out[AVERAGED] = scaled(conformal(wf, calibration.PRIOR_WINDOWS))
    return out


def origins_of(freq: str, series: list[pd.Series], k: int) -> list[tuple[str, pd.Series, np.ndarray, int]]:
    """(source, train, held-out actuals, season) per series at origin k (k horizons before the bench's)."""
    if freq == "D":
        y = adventureworks()
        y = y.iloc[: len(y) - k * AW_SHIFT] if k else y
        plan = plan_for(len(y))
        return [("adventureworks", y.iloc[:c], y.to_numpy()[c : c + plan.horizon], plan.season) for c in plan.cutoffs]
    m, h, _ = SETUP[freq]
    out = []
    for y in series:
        y = y.iloc[: len(y) - k * h] if k else y
        out.append((str(y.name).split("/")[0], y.iloc[:-h], y.to_numpy()[-h:], m))
    return out


ENGINE = f"conformal, prior {calibration.PRIOR_WINDOWS} (engine)"
AVERAGED = "combination by averaged bounds, prior 8"


def score_all(data: dict, origins: list[int], dense: bool) -> dict[tuple, dict[str, list]]:
    """Per (origin, set) and per (origin, set, source): each rule's (cov95, SPL) per series with a backtest."""
    scores: dict[tuple, dict[str, list]] = {}
    for k in origins:
        for freq in SETS:
            for source, train, actual, m in origins_of(freq, data[freq], k):
                h = len(actual)
                sel = select_model(train, horizon=h)
                scale = metrics.mase_scale(train.to_numpy(), m)
                for name, (mean, bounds) in rules(sel, train, h, dense).items():
                    reported = {lv: bounds[lv] for lv in (80.0, 95.0)}
                    row = (
                        metrics.coverage(actual, *reported[95.0]),
                        metrics.scaled_pinball(actual, mean, reported, scale),
                    )
                    scores.setdefault((k, freq), {}).setdefault(name, []).append(row)
                    scores.setdefault((k, freq, source), {}).setdefault(name, []).append(row)
    return scores


def cov95(rows: list) -> float:
    return 100 * float(np.mean([r[0] for r in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", type=int, choices=(0, 1), default=None, help="even (0) or odd (1) positions")
    parser.add_argument("--origins", type=int, nargs="+", default=[0, 1, 2], help="horizons cut off first")
    parser.add_argument("--dense", action="store_true", help="also score calibration from dense windows")
    args = parser.parse_args()
    data = {"D": [], **{freq: s[args.half :: 2] if args.half is not None else s for freq, s in load().items()}}
    start, cpu_start = time.perf_counter(), time.process_time()
    scores = score_all(data, args.origins, args.dense)
    half = "all series" if args.half is None else f"half {args.half}"
    print(f"{half}; origins {args.origins}; per origin: {' '.join(SETS)} as cov95/SPL; last: mean SPL / model's")
    for name in scores[(args.origins[0], SETS[0])]:
        line, ratios = f"{name:42s}", []
        for k in args.origins:
            cells = []
            for freq in SETS:
                own = np.mean(scores[(k, freq)][name], axis=0)
                ratios.append(own[1] / np.mean(scores[(k, freq)]["model intervals"], axis=0)[1])
                cells.append(f"{100 * own[0]:5.1f}/{own[1]:.4f}")
            line += " | " + " ".join(cells)
        print(f"{line} | {np.mean(ratios):.4f}")
    print("\nseries with a backtest, and cov95 of model intervals / engine by source:")
    for k in args.origins:
        for freq in SETS:
            parts = [
                f"{key[2]} {len(rows[ENGINE])} {cov95(rows['model intervals']):.0f}/{cov95(rows[ENGINE]):.0f}%"
                for key, rows in scores.items()
                if len(key) == 3 and key[:2] == (k, freq)
            ]
            print(f"origin {k} {freq}: {len(scores[(k, freq)]['model intervals'])} series; " + ", ".join(parts))
    print("\n" + run_summary(start, cpu_start))


if __name__ == "__main__":
    main()
