"""Variants of the monitor's threshold classes and evidence, measured as bench/drift_calibration.py measures the code.

Every variant reads the raw statistics `bench.drift_calibration --raw` wrote for the calibration seeds and for
the fresh evaluation seeds (and, where it needs the series, the `--cache` folder), calibrates on the first
with the same family-wise rule (`drift_calibration.calibrate`) and prints the evaluation table of the second:

- `--classes form`: the daily class "D" split by the champion's form, trended (A, Ad) or not;
  `--classes growth`: by how much its served interval widens over the window (sd at day 28 over day 1,
  `--growth-cut`); `--classes stratum`: every stratum calibrated alone, which no monitor can do (it does
  not know a series' stratum): the most any split of the class could give.
- `--reference R`: two more checks of the window against a least-squares fit of the R days before it (a
  level, a linear trend unless `--no-trend`, weekday means; AR(1) errors estimated from the residuals):
  the largest standardized sum (`ref_level`) and ramp (`ref_slope`) of the window's residuals over its
  last 7 to 28 days, the fit's own extrapolation error included. `--split` calibrates the named strata
  apart (a what-if: no monitor knows the stratum).
- `--refilter N`: the N stable windows of the daily class with the largest bias that were served by an
  additive-form previous champion: the champion refitted, the window refiltered with its parameters and
  states held fixed (no refit), and the bias of its one-step innovations next to the served scores'.

Usage: python -m bench.drift_variants cal.json eval.json --classes form [--target 0.04]
       python -m bench.drift_variants cal.json eval.json --reference 112 --cache C
       python -m bench.drift_variants cal.json eval.json --refilter 10 --cache C
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

import bench.drift_calibration as dc
from bench.common import machine
from bench.drift_corpus import STRATUM
from shared.forecasting.families import fit_spec
from shared.monitoring.evidence import ALERTING

REFERENCE_CHECKS = ("ref_level", "ref_slope")
MIN_SUFFIX = 7  # the reference checks' shortest stretch at the window's end
KIND = {"A": "add", "M": "mul", "N": None}


def cached(cache: str, result: dict) -> dict:
    with open(os.path.join(cache, f"{result['stratum']}-{result['seed']}.pkl"), "rb") as handle:
        return pickle.load(handle)


def reclass(results: list[dict], how: str, cache: str | None, cut: float) -> None:
    """Split the daily class "D" in place (see the module docstring)."""
    for r in results:
        if r["class"] != "D":
            continue
        if how == "stratum":
            r["class"] = r["stratum"]
        elif how == "form":
            r["class"] = "D" if r["form"].split(",")[1] == "N" else "D_trended"
        else:
            sd = cached(cache, r)["served"]["sds"][1]
            r["class"] = "D_widening" if sd[min(27, len(sd) - 1)] / sd[0] >= cut else "D"


def reference_statistics(values: np.ndarray, end: int, window: int, weekday: np.ndarray, days: int, trend: bool):
    """ref_level and ref_slope of the window ending before `end` against a fit of the `days` before it."""
    start = end - window
    if start - days < 0:
        return (math.nan, math.nan)
    t = np.arange(start - days, end)
    columns = [np.ones(len(t))] + ([(t - start) / window] if trend else [])
    columns += [(weekday[start - days : end] == d).astype(float) for d in range(1, 7)]
    x = np.column_stack(columns)
    fit, ahead = x[:days], x[days:]
    beta = np.linalg.lstsq(fit, values[start - days : start], rcond=None)[0]
    e = values[start - days : start] - fit @ beta
    sigma2 = float(e @ e) / (days - x.shape[1])
    centred = e - e.mean()
    if sigma2 <= 0 or not centred.any():
        return (math.nan, math.nan)
    phi = float(np.clip((centred[1:] @ centred[:-1]) / (centred @ centred), 0.0, 0.9))
    residual = values[start:end] - ahead @ beta
    k = np.arange(window)
    corr = phi ** np.abs(k[:, None] - k[None, :])
    taus = np.arange(window - MIN_SUFFIX + 1)
    step = (k[None, :] >= taus[:, None]).astype(float)
    unscaled = np.linalg.pinv(fit.T @ fit) * (1 + phi) / (1 - phi)  # the fit's error, AR(1)-inflated
    out = []
    for weights in (step, step * (k[None, :] - taus[:, None] + 1)):
        b = weights @ ahead
        var = sigma2 * (np.einsum("ij,jk,ik->i", weights, corr, weights) + np.einsum("ij,jk,ik->i", b, unscaled, b))
        out.append(float(np.max(np.abs(weights @ residual) / np.sqrt(var))))
    return tuple(out)


def reference_of(task: tuple[dict, str, int, bool]) -> dict:
    """The reference statistics of every run of one series' scenarios (daily strata only)."""
    result, cache, days, trend = task
    stratum = STRATUM[result["stratum"]]
    if not stratum.daily:
        return {}
    prepared = cached(cache, result)
    weekday = np.asarray(prepared["index"].day_of_week)
    out = {}
    for scenario, values in prepared["values"].items():
        runs = dc.scenario_runs(scenario, prepared["break_at"] if scenario == "break" else 1, stratum.window)
        t_end = prepared["t_end"]
        out[scenario] = [reference_statistics(values, t_end + k, stratum.window, weekday, days, trend) for k in runs]
    return out


def add_reference(results: list[dict], cache: str, days: int, trend: bool, jobs: int) -> None:
    """Append the reference statistics to every run of the results (NaN where they do not apply)."""
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        extra = list(pool.map(reference_of, [(r, cache, days, trend) for r in results], chunksize=8))
    for r, more in zip(results, extra, strict=True):
        for scenario, entry in r["scenarios"].items():
            for case in dc.CASES:
                if case in entry:
                    rows = entry[case]
                    added = more.get(scenario) or [(math.nan, math.nan)] * len(rows)
                    entry[case] = [list(row) + list(a) for row, a in zip(rows, added, strict=True)]


def refilter(prepared: dict, form: str) -> np.ndarray | None:
    """One-step innovations, in the served one-step sd, of the lineage window of the previous champion
    refitted with its form and then run forward with its parameters and states fixed (additive forms)."""
    error, trend, seasonal = form[4:-1].split(",")
    if error != "A" or seasonal == "M":
        return None
    spec = {"name": "ets", "error": "add", "trend": KIND[trend[0]], "damped": trend.endswith("d")}
    spec |= {"seasonal": KIND[seasonal], "period": 7, "freq": "D"}
    t_end, window = prepared["t_end"], 28
    stable = prepared["values"]["stable"]
    y = pd.Series(stable[: t_end - window], index=prepared["index"][: t_end - window])
    y.index.freq = "D"
    model = fit_spec(y, spec)
    p, s = model.params, model.state
    level, slope = s["level"], s["trend"]
    season = list(s["season"]) if spec["seasonal"] else [0.0]
    phi = p["phi"] if spec["damped"] else 1.0
    innovations = []
    for i, value in enumerate(stable[t_end - window : t_end]):
        past = season[i % len(season)]
        damped = phi * slope if spec["trend"] else 0.0
        e = value - (level + damped + past)
        innovations.append(e)
        level += damped + p["alpha"] * e
        if spec["trend"]:
            slope = damped + p["beta"] * e
        if spec["seasonal"]:
            season[i % len(season)] = past + p["gamma"] * e
    return np.array(innovations) / prepared["served"]["sds"][0][0]


def show_refilter(calibration: list[dict], cache: str, count: int) -> None:
    column = ALERTING.index("bias")
    candidates = []
    for r in calibration:
        form = r["form"] or ""
        if r["class"] == "D" and form.startswith("ETS(A,") and not form.endswith("M)"):
            candidates.append((r["scenarios"]["stable"]["lineage"][0][column], r))
    candidates.sort(key=lambda item: -item[0])
    print("| stratum | seed | form | bias of the served scores | bias of the refiltered innovations |")
    print("|---|---:|---|---:|---:|")
    for served_bias, r in candidates[:count]:
        u = refilter(cached(cache, r), r["form"])
        refiltered = abs(u.mean()) * math.sqrt(len(u))
        print(f"| {r['stratum']} | {r['seed']} | {r['form']} | {served_bias:.2f} | {refiltered:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("calibration_raw")
    parser.add_argument("evaluation_raw")
    parser.add_argument("--target", type=float, default=dc.TARGET)
    parser.add_argument("--classes", choices=("form", "growth", "stratum"))
    parser.add_argument("--growth-cut", type=float, default=1.5)
    parser.add_argument("--reference", type=int, metavar="DAYS")
    parser.add_argument("--no-trend", action="store_true")
    parser.add_argument("--split", default="", help="comma-separated strata calibrated apart")
    parser.add_argument("--refilter", type=int, metavar="N")
    parser.add_argument("--cache")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    print(machine())
    started = dc.cpu_seconds()
    calibration, evaluation = dc.load(args.calibration_raw), dc.load(args.evaluation_raw)
    if args.refilter:
        show_refilter(calibration, args.cache, args.refilter)
        print(f"\n{dc.cpu_seconds() - started:.0f} CPU s")
        return
    if args.classes:
        for results in (calibration, evaluation):
            reclass(results, args.classes, args.cache, args.growth_cut)
    if args.reference:
        dc.ALERTING = ALERTING + REFERENCE_CHECKS  # the calibration's check list, for this run only
        for results in (calibration, evaluation):
            add_reference(results, args.cache, args.reference, not args.no_trend, args.jobs)
    split = set(filter(None, args.split.split(",")))
    for r in calibration + evaluation:
        if r["stratum"] in split:
            r["class"] = r["stratum"]
    calibrated = dc.calibrate(calibration, args.target)
    for klass, entry in calibrated.items():
        print(klass, entry["series"], f"q {entry['quantile']:.4f}", entry["thresholds"])
    dc.print_evaluation(dc.evaluate_results(evaluation, dc.oracle_limits(calibration, args.target), calibrated))
    print(f"\n{dc.cpu_seconds() - started:.0f} CPU s (including worker processes)")


if __name__ == "__main__":
    main()
