"""Model selection: resolve candidates, backtest them on shared windows, calibrate, decide vs the champion."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import pandas as pd

from shared.jsonsafe import json_safe

from . import calibration
from .backtest import BacktestPlan, WindowForecasts, forecast_windows, plan_windows, summarize, window_scores
from .base import Forecaster
from .champion import ChampionScore, cold_start_decision, decide_promotion, score_champion
from .combination import CombinationFit, combine
from .fallback import Fallback, min_selection_length
from .families import FAMILIES, build, resolve_fit, series_freq
from .private_api import failure_cause

logger = logging.getLogger(__name__)

MIN_OBSERVATIONS = 1  # shorter than a backtest window still gets the cold-start fallback (fallback.py)
COMBO_MEMBERS = ("arima", "ets")  # the combination averages these (the two best others if one is missing)
# Theta joins the combination when it deseasonalizes: its classical decomposition is a seasonal model of
# another kind than ARIMA's and ETS's. Without a season it is SES with drift, close to forms the other two
# already search, and on the held-out yearly sets it lowered the combination's accuracy (bench/README.md).
SEASONAL_MEMBER = "theta"
# A combination member replaces the combination only if its backtest MASE is lower by this fraction:
# 10% when the backtest has few windows (monthly, quarterly, yearly defaults), 2% with 6 or more.
COMBO_PREFERENCE = {"few_windows": 0.10, "many_windows": 0.02}
MANY_WINDOWS = 6
# Backtest windows one period apart (the yearly plan) share all but one point of their validation parts, so
# their MASEs are nearly one number: there a member never replaces the combination (bench/README.md).
MIN_OVERRIDE_STEP = 2


@dataclass
class Selection:
    """Outcome of a selection: the chosen spec and model, every candidate's scores and the decision."""

    spec: dict
    model: Forecaster
    candidates: dict[str, dict]
    champion: dict | None
    champion_model: Forecaster | None
    decision: dict
    backtest: dict
    failures: dict  # families that failed, by cause ("engine" faults vs "data"), see `count_failures`
    fallback: dict | None = None  # set when the series is too short for selection: why, and what is needed
    fits: dict | None = None  # each family's model fitted on all of y (not stored; for studies and reports)
    windows: dict | None = None  # each candidate's backtest window forecasts (not stored; for studies)


def validate_training_series(y: pd.Series) -> pd.Series:
    """Validate the input of selection: float values on a regular DatetimeIndex, no missing values."""
    if not isinstance(y, pd.Series) or not isinstance(y.index, pd.DatetimeIndex):
        raise ValueError("y must be a pandas Series with a DatetimeIndex (use regularize first)")
    if len(y) < MIN_OBSERVATIONS:
        raise ValueError(f"series has {len(y)} observations; at least {MIN_OBSERVATIONS} are needed")
    if len(y) == 1 and y.index.freq is None:
        raise ValueError("a single observation has no frequency to infer: give the series a regular index (regularize)")
    values = pd.to_numeric(y, errors="coerce").astype(float)
    if values.isna().any():
        raise ValueError("series has missing or non-numeric values; use regularize to fill gaps")
    return values


def combo_forecasts(members: list[WindowForecasts], freq: str) -> WindowForecasts:
    """Window forecasts of the equal-weight combination, computed from the members' window forecasts."""
    spec = {"name": "combo", "freq": freq, "members": [strip(m.spec) for m in members]}
    out = WindowForecasts(spec, actuals=members[0].actuals, scales=members[0].scales)
    for i in range(len(members[0].means)):
        mean, bounds = combine([(m.means[i], m.bounds[i]) for m in members])
        out.means.append(mean)
        out.bounds.append(bounds)
    out.fallbacks = sum(m.fallbacks for m in members)
    return out


def strip(spec: dict) -> dict:
    """Spec without its interval calibration (backtests always score raw model intervals)."""
    return {k: v for k, v in spec.items() if k != "interval"}


def _combo_members(windows: dict[str, WindowForecasts], mase: dict[str, float], specs: dict[str, dict]) -> list[str]:
    """COMBO_MEMBERS when both were backtested, with SEASONAL_MEMBER if its spec deseasonalizes; otherwise
    the two non-baseline candidates with lowest MASE."""
    if all(n in windows for n in COMBO_MEMBERS):
        seasonal = SEASONAL_MEMBER in windows and bool(specs.get(SEASONAL_MEMBER, {}).get("deseasonalize"))
        return [*COMBO_MEMBERS, *([SEASONAL_MEMBER] if seasonal else [])]
    others = sorted((n for n in windows if n != "snaive"), key=lambda n: mase[n])
    return others[:2]


def rank(candidates: dict[str, dict], step: int | None = None) -> list[str]:
    """Candidates in order of preference: the combination first, unless one of its COMBO_MEMBERS (or, in a
    combination without them, one of its members) has a backtest MASE lower by COMBO_PREFERENCE, in which
    case that member; then the rest by MASE.

    Picking the single lowest backtest MASE over-fits the few windows of a short series: on held-out
    monthly, quarterly and yearly series (4 windows each) the combination is more accurate on average,
    and a non-member (Theta, seasonal naive) that wins the backtest loses out of sample more often than
    not (bench/README.md); those remain scored benchmarks and fallbacks, and Theta, when it is a member of
    the combination, does not replace it (letting it did worse on the calibration half). With MANY_WINDOWS
    or more windows (daily and weekly defaults) the backtest is trusted more and the margin is small. With
    windows `step` < MIN_OVERRIDE_STEP periods apart the combination always stays first.
    """
    scored = {n: c["mase"] for n, c in candidates.items() if "mase" in c}
    windows = max((c.get("windows", 0) for c in candidates.values()), default=0)
    margin = COMBO_PREFERENCE["many_windows" if windows >= MANY_WINDOWS else "few_windows"]
    order = sorted(scored, key=lambda n: scored[n])
    if "combo" not in scored:
        return order
    members = [m["name"] for m in candidates["combo"]["spec"]["members"] if m["name"] in scored]
    members = [n for n in members if n in COMBO_MEMBERS] or members
    best = min(members, key=lambda n: scored[n])
    trusted = step is None or step >= MIN_OVERRIDE_STEP
    first = best if trusted and scored[best] < (1 - margin) * scored["combo"] else "combo"
    return [first] + [n for n in order if n != first]


def record_failure(candidates: dict, name: str, what: str, exc: Exception) -> None:
    """Log a candidate's failure (WARNING when it is the engine's fault, INFO when the data's) and keep it."""
    cause = failure_cause(exc)
    level = logging.WARNING if cause == "engine" else logging.INFO
    logger.log(level, "candidate %s %s (%s failure): %r", name, what, cause, exc)
    candidates.setdefault(name, {}).update(error=f"{type(exc).__name__}: {exc}", cause=cause)


def count_failures(candidates: dict, windows: dict[str, WindowForecasts]) -> dict:
    """Failed candidates by cause, and backtest windows that fell back to naive because of an engine fault."""
    failed = {n: {"cause": c["cause"], "error": c["error"]} for n, c in candidates.items() if "cause" in c}
    return {
        "engine": sum(f["cause"] == "engine" for f in failed.values()),
        "data": sum(f["cause"] == "data" for f in failed.values()),
        "candidates": failed,
        "engine_windows": sum(wf.engine_errors for name, wf in windows.items() if name != "combo"),
    }


def _resolve_all(y: pd.Series, freq: str, candidates: dict) -> tuple[dict[str, dict], dict[str, Forecaster]]:
    """Spec of every family on y and, as a by-product, its model fitted on all of y."""
    specs, fits = {}, {}
    for fam in FAMILIES:
        try:
            specs[fam], fits[fam] = resolve_fit(fam, y, freq)
        except Exception as exc:  # a failing family is logged, counted and left out; the baseline always remains
            record_failure(candidates, fam, "could not be specified", exc)
    return specs, fits


def _full_fit(name: str, specs: dict, fits: dict, y: pd.Series) -> Forecaster:
    """Model of `name` on all of y, reusing the fits made while resolving the specs."""
    if name in fits:
        return fits[name]
    spec = specs[name]
    if spec["name"] == "combo" and all(m["name"] in fits for m in spec["members"]):
        members = [fits[m["name"]] for m in spec["members"]]
        return CombinationFit({**spec, "members": [m.spec for m in members]}, members, y.index[-1], spec["freq"])
    return build(spec).fit(y)


def _fit_first(order: list[str], specs: dict, fits: dict, y: pd.Series, candidates: dict) -> tuple[str, Forecaster]:
    """The best-ranked candidate fitted on all data, falling back down the ranking (and finally to naive)."""
    for name in [*order, "snaive"]:
        try:
            return name, _full_fit(name, specs, fits, y)
        except Exception as exc:  # logged fallback to the next-ranked candidate
            record_failure(candidates, name, "failed on the full series", exc)
    raise RuntimeError("seasonal naive failed; the series is unusable")


def _calibrated_summary(wf: WindowForecasts) -> tuple[dict, dict]:
    """The interval calibration of backtest windows and their metrics with it applied."""
    interval = calibration.calibrate(wf)
    return interval, summarize(window_scores(calibration.apply(wf, interval)), wf.fallbacks)


def form(spec: dict) -> dict:
    """What a spec's backtest depends on: the spec without interval calibration and search records."""
    out = {k: v for k, v in spec.items() if k not in ("interval", "search")}
    if "members" in out:
        out["members"] = [form(m) for m in out["members"]]
    return json_safe(out)


def _evaluate_champion(champion_spec: dict, y: pd.Series, plan: BacktestPlan, freq: str, windows: dict, specs, fits):
    """Champion's backtest on the same windows, its calibration and its refit on all data.

    A champion of the same form as a candidate (a kept champion usually is) reuses that candidate's
    window forecasts and full fit instead of repeating them.
    """
    spec = {**strip(champion_spec), "freq": freq}
    same = next((name for name, wf in windows.items() if form(wf.spec) == form(spec)), None)
    wf = windows[same] if same else forecast_windows(spec, y, plan, build)
    interval, summary = _calibrated_summary(wf)
    summary["raw"] = summarize(window_scores(wf), wf.fallbacks)
    fitted = copy.copy(_full_fit(same, specs, fits, y)) if same else build(spec).fit(y)
    return summary, fitted.with_interval(interval)


def cold_start(y: pd.Series, freq: str, plan: BacktestPlan, horizon: int | None) -> Selection:
    """Selection of a series too short to backtest: the fallback forecast, promoted and marked as such."""
    needed = min_selection_length(freq, horizon)
    fallback = {
        "reason": f"{len(y)} observation(s): too short for a backtest window; full selection from {needed}",
        "observations": len(y),
        "needed": needed,
    }
    logger.info("cold start on %d observation(s): fallback forecast until %d", len(y), needed)
    model = Fallback({"name": Fallback.name, "freq": freq}).fit(y)
    model.with_interval({"method": "model", "backtest_coverage": None, "points": 0})
    decision = cold_start_decision(fallback["reason"])
    metrics = {"per_window_mase": [], "windows": 0}
    return Selection(
        spec=json_safe(model.spec),
        model=model,
        candidates={},
        champion=None,
        champion_model=None,
        decision=decision,
        backtest=json_safe({**plan.to_dict(y.index), "selected": Fallback.name, "metrics": metrics}),
        failures=count_failures({}, {}),
        fallback=fallback,
    )


def select_model(y: pd.Series, *, champion_spec: dict | None = None, horizon: int | None = None) -> Selection:
    """Choose a candidate by rolling-origin MASE (see `rank`) and decide whether it replaces `champion_spec`.

    A series too short for one backtest window gets the cold-start fallback (`cold_start`); a champion that
    is such a fallback is replaced by the first full selection.
    """
    y = validate_training_series(y)
    freq = series_freq(y)
    plan = plan_windows(len(y), freq, horizon)
    if not plan.cutoffs:
        return cold_start(y, freq, plan, horizon)
    replaces_fallback = champion_spec is not None and bool(champion_spec.get("fallback"))
    candidates: dict[str, dict] = {}
    specs, fits = _resolve_all(y, freq, candidates)
    if "snaive" not in specs:
        specs["snaive"] = {"name": "snaive", "freq": freq}
    windows: dict[str, WindowForecasts] = {}
    for name, spec in specs.items():
        windows[name] = forecast_windows(spec, y, plan, build)
    summaries = {name: summarize(window_scores(wf), wf.fallbacks) for name, wf in windows.items()}
    members = _combo_members(windows, {name: summary["mase"] for name, summary in summaries.items()}, specs)
    if len(members) >= 2:
        windows["combo"] = combo = combo_forecasts([windows[n] for n in members], freq)
        specs["combo"] = combo.spec
        summaries["combo"] = summarize(window_scores(combo), combo.fallbacks)
    for name, summary in summaries.items():
        candidates[name] = {"spec": json_safe(strip(specs[name])), **summary}
    order = rank(candidates, plan.step)
    chosen, model = _fit_first(order, specs, fits, y, candidates)
    if chosen in windows:
        interval, selected = _calibrated_summary(windows[chosen])
        selected["raw"] = candidates[chosen]
    else:
        interval = {"method": "model", "backtest_coverage": None, "points": 0}
        selected = {"per_window_mase": [], "windows": 0}
    model.with_interval(json_safe(interval))
    scored = ChampionScore()
    if champion_spec is not None and not replaces_fallback:
        scored = score_champion(
            champion_spec, lambda spec: _evaluate_champion(spec, y, plan, freq, windows, specs, fits)
        )
    decision = decide_promotion(
        model.spec, selected, champion_spec, scored.summary, scored.error, replaces_fallback=replaces_fallback
    )
    champion, champion_model = scored.summary, scored.model
    backtest = {**plan.to_dict(y.index), "selected": chosen, "metrics": selected}
    return Selection(
        spec=json_safe(model.spec),
        model=model,
        candidates=json_safe(candidates),
        champion=json_safe(champion),
        champion_model=champion_model,
        decision=json_safe(decision),
        backtest=json_safe(backtest),
        failures=json_safe(count_failures(candidates, windows)),
        fits=fits,
        windows=windows,
    )
