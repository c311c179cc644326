"""Calibration of the drift and decay thresholds on simulated series with the AdventureWorks sample's character.

The sample's days fall into two regimes: "high" days (about 1,000, standard deviation near 300) and
"low" days (about 200, sd near 60), with a weekday-specific share of high days (Monday 84%, Saturday
11%), persistence from day to day and from week to week, and a share that moves from month to month
(26% of days high in October 2013, about 65% later). Each simulated series reproduces that: a latent
Gaussian process, a multiplicative seasonal AR (1 - a B)(1 - b B^7), above a weekday threshold makes
a high day, and the values of each regime are gamma distributed. A slow AR(1) wander of the latent
level would add month-to-month movement the seasonal AR does not explain; on the sample there is
none left (its estimate is 0). Parameters are estimated from the sample (`sample_character`) and
drawn around those estimates per series.

A champion is selected on the first 277 days exactly as the retrain does (`select_model`), its 90-day
forecast is stored, and the monitor's checks (`shared.monitoring.checks.evaluate`) run once a day for
28 days after training, as the timer does, on the unchanged series and on four injected changes:

- level_shift: from the first day after training, sales rise by one standard deviation of the daily
  values around their weekday means (the noise standard deviation of the training data);
- variance_doubled: from that day, the deviations from the expected value of each day are scaled by
  sqrt(2) (floored at 1 so that sales stay positive; the realized variance ratio is reported);
- profile_changed: from that day, the weekly pattern moves by three days (the weekend's low days fall
  on Tuesday and Wednesday); the mean level stays the same;
- sudden_break: on a random day of the first two weeks after training, sales halve.

A false alarm is a check that fires on at least one of the 28 daily runs of a stable series; a
detection is any check firing within 28 days of the change, and the delay counts the changed days
observed by the first run that fired (1 = the first changed day).

`--calibrate` prints, per check, the 97.5th percentile of its largest score over the 28 daily runs of
stable series (seeds from 100000 on, disjoint from the evaluation seeds); those are the constants in
shared/monitoring/thresholds.py. The default run evaluates the constants in code on fresh series
(seeds from 0), `--adventureworks` checks the sample's own last 28 days against the months before, and
`--oracle` measures a profile test that knows the injected change, as an upper bound for the profile check.

Usage: python -m bench.drift_calibration [--series 200] [--jobs 2] [--calibrate | --adventureworks | --oracle]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from bench.common import adventureworks, machine
from shared.forecasting import select_model
from shared.monitoring import thresholds as th
from shared.monitoring.checks import evaluate
from shared.monitoring.decay import one_step_errors

TRAIN_DAYS = 277  # the sample's length minus its last 28 days
RUNS = 28  # daily runs after training, the detection horizon
BREAK_LATEST = 14  # the sudden break happens on one of the first 14 days after training
HORIZON = 90  # stored forecast length of a daily champion (shared.retrain.MAX_HORIZON)
CALIBRATION_QUANTILE = 0.975
CALIBRATION_SEED = 100_000
SCENARIOS = ("stable", "level_shift", "variance_doubled", "profile_changed", "sudden_break")
CHECKS = (
    "ks",
    "psi",
    "wasserstein",
    "level_shift",
    "variance_change",
    "seasonal_profile",
    "mase_ratio",
    "cusum_mean",
    "cusum_scale",
)
DRIFT_CHECKS = CHECKS[:6]
DECAY_CHECKS = CHECKS[6:]
PERSISTENCE_ITERATIONS = 3
MAX_COEFFICIENT = 0.95  # latent lag-1 and lag-7 coefficients stay below a unit root
PROFILE_MOVE = 3  # days the weekly profile moves in profile_changed
BREAK_FACTOR = 0.5


@dataclass(frozen=True)
class Character:
    """The sample's character: regime values, weekday share of high days, latent persistence and wander."""

    high_mean: float
    high_sd: float
    low_mean: float
    low_sd: float
    high_share: np.ndarray  # by weekday, Monday first
    ar1: float  # latent coefficients at lag 1 and lag 7 of (1 - ar1 B)(1 - ar7 B^7)
    ar7: float
    wander_sd: float  # latent wander, in units of the latent noise
    indicator_acf: tuple[float, float]  # the sample's lag-1 and lag-7 autocorrelation of the high-day indicator

    def describe(self) -> str:
        share = ", ".join(f"{v:.2f}" for v in self.high_share)
        return (
            f"high days {self.high_mean:.0f} (sd {self.high_sd:.0f}), low days {self.low_mean:.0f} "
            f"(sd {self.low_sd:.0f}); share of high days Mon..Sun [{share}]; high-day indicator autocorrelation "
            f"lag 1 {self.indicator_acf[0]:.2f}, lag 7 {self.indicator_acf[1]:.2f} (latent {self.ar1:.2f}, "
            f"{self.ar7:.2f}); latent monthly wander sd {self.wander_sd:.2f}"
        )


def noise_sd(values: np.ndarray, block: int = RUNS) -> float:
    """Standard deviation of daily values around their weekday means within 4-week blocks (the level
    shift's size): blocks of `block` days aligned to the end, a leading partial block dropped."""
    positions = np.arange(len(values)) % 7
    sse, dof = 0.0, 0
    for start in range(len(values) % block, len(values), block):
        x, pos = values[start : start + block], positions[start : start + block]
        means = np.bincount(pos, weights=x, minlength=7) / np.bincount(pos, minlength=7)
        sse += float(np.sum((x - means[pos]) ** 2))
        dof += len(x) - 7
    return math.sqrt(sse / dof)


def two_means_split(values: np.ndarray) -> float:
    """Threshold between the two regimes: 2-means (Lloyd's iterations) on the log values, from the quartiles."""
    logs = np.log(values)
    low, high = np.quantile(logs, [0.25, 0.75])
    for _ in range(100):
        cut = (low + high) / 2
        new_low, new_high = logs[logs <= cut].mean(), logs[logs > cut].mean()
        if np.isclose(new_low, low) and np.isclose(new_high, high):
            break
        low, high = new_low, new_high
    return float(np.exp((low + high) / 2))


def _autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float(x[lag:] @ x[:-lag] / (x @ x))


def _indicator(y: pd.Series, cut: float, share: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weekday share of high days and the deseasonalized high-day indicator."""
    high = (y > cut).astype(float)
    dow = y.index.day_of_week
    if share is None:
        share = high.groupby(dow).mean().to_numpy()
    return share, (high - share[dow]).to_numpy()


def _monthly_share_var(y: pd.Series, deseasoned: np.ndarray) -> float:
    return float(pd.Series(deseasoned, index=y.index).groupby(y.index.to_period("M")).mean().var())


@lru_cache(maxsize=1)
def sample_character() -> Character:
    """Estimate the regimes, weekday shares, persistence and monthly wander of high days from the sample.

    The latent coefficients start from the latent correlations at lags 1 and 7 (from the indicator's:
    r = sin(pi * r_indicator / 2), exact for a 50% split) and are rescaled until series simulated with
    them show the sample's indicator autocorrelations. The wander is the month-to-month variance of
    the share of high days beyond what the seasonal AR alone gives (measured on series simulated
    without wander), converted to latent units.
    """
    y = adventureworks().iloc[1:]  # the sample's first month holds one day
    cut = two_means_split(y.to_numpy())
    share, deseasoned = _indicator(y, cut)
    acf1, acf7 = _autocorrelation(deseasoned, 1), _autocorrelation(deseasoned, 7)
    ar1, ar7 = (math.sin(math.pi * r / 2) for r in (acf1, acf7))
    hi, lo = y[y > cut], y[y <= cut]
    for _ in range(PERSISTENCE_ITERATIONS):
        regimes = (float(hi.mean()), float(hi.std()), float(lo.mean()), float(lo.std()))
        base = Character(*regimes, share, ar1, ar7, 0.0, (acf1, acf7))
        chance, lags = [], []
        for seed in range(200):
            sim = simulate(base, 10_000_000 + seed, len(y), jitter=False)
            sim_deseasoned = _indicator(sim.y, cut, share)[1]
            chance.append(_monthly_share_var(sim.y, sim_deseasoned))
            lags.append([_autocorrelation(sim_deseasoned, k) for k in (1, 7)])
        got1, got7 = np.mean(lags, axis=0)
        # The arcsine map is exact only for a 50% split: scale the coefficients to hit the sample's correlations.
        ar1, ar7 = min(ar1 * acf1 / got1, MAX_COEFFICIENT), min(ar7 * acf7 / got7, MAX_COEFFICIENT)
    excess = max(_monthly_share_var(y, deseasoned) - float(np.mean(chance)), 0.0)
    wander = math.sqrt(excess) / float(stats.norm.pdf(stats.norm.ppf(float(share.mean()))))
    return Character(base.high_mean, base.high_sd, base.low_mean, base.low_sd, share, ar1, ar7, wander, (acf1, acf7))


@dataclass
class Simulated:
    """One stable series, with what the injected changes need: latent process, regime draws, thresholds."""

    y: pd.Series
    latent: np.ndarray  # wander plus persistent noise
    wander: np.ndarray
    cuts: np.ndarray  # latent threshold of a high day, by weekday
    high_values: np.ndarray  # the value each day takes if it is high, and if it is low
    low_values: np.ndarray

    def expected(self) -> np.ndarray:
        """Expected sales of each day given the wander: P(high) * high mean + P(low) * low mean."""
        dow = self.y.index.day_of_week
        p_high = 1 - stats.norm.cdf(self.cuts[dow] - self.wander)
        return p_high * self.high_values.mean() + (1 - p_high) * self.low_values.mean()


def _gamma(rng: np.random.Generator, mean: float, sd: float, size: int) -> np.ndarray:
    shape = (mean / sd) ** 2
    return rng.gamma(shape, mean / shape, size)


def simulate(character: Character, seed: int, days: int, jitter: bool = True) -> Simulated:
    """A stable daily series with the sample's character; parameters drawn around the sample's per series."""
    rng = np.random.default_rng(seed)
    j = 1.0 if jitter else 0.0
    scale = 1 + j * rng.uniform(-0.2, 0.2)
    share = np.clip(character.high_share + j * rng.uniform(-0.05, 0.05, 7), 0.02, 0.98)
    ar1 = character.ar1 + j * rng.uniform(-0.05, 0.05)
    ar7 = character.ar7 + j * rng.uniform(-0.05, 0.05)
    wander_sd = character.wander_sd * (1 + j * rng.uniform(-0.5, 0.5))
    persistence = rng.uniform(0.97, 0.99)
    burn = 365
    total = days + burn
    e = rng.standard_normal(total)
    a = np.zeros(total)
    for t in range(total):
        a[t] = e[t] + (ar1 * a[t - 1] if t >= 1 else 0.0)
        if t >= 7:
            a[t] += ar7 * a[t - 7] - (ar1 * ar7 * a[t - 8] if t >= 8 else 0.0)
    a = a[burn:] / a[burn:].std()
    shocks = rng.standard_normal(total) * math.sqrt(1 - persistence**2)
    wander = np.zeros(total)
    for t in range(1, total):
        wander[t] = persistence * wander[t - 1] + shocks[t]
    wander = wander[burn:] * wander_sd
    index = pd.date_range("2013-08-01", periods=days, freq="D")
    cuts = stats.norm.ppf(1 - share) * math.sqrt(1 + wander_sd**2)
    latent = wander + a
    high_values = _gamma(rng, character.high_mean * scale, character.high_sd * scale, days)
    low_values = _gamma(rng, character.low_mean * scale, character.low_sd * scale, days)
    is_high = latent > cuts[index.day_of_week]
    y = pd.Series(np.where(is_high, high_values, low_values), index=index)
    y.index.freq = "D"
    return Simulated(y, latent, wander, cuts, high_values, low_values)


def inject(sim: Simulated, scenario: str, start: int, sd: float) -> pd.Series:
    """The series with one change from position `start` on (the stable series unchanged)."""
    y = sim.y.copy()
    after = slice(start, None)
    if scenario == "level_shift":
        y.iloc[after] += sd
    elif scenario == "variance_doubled":
        expected = sim.expected()
        changed = np.maximum(expected + math.sqrt(2) * (y.to_numpy() - expected), 1.0)
        y.iloc[after] = changed[after]
    elif scenario == "profile_changed":
        moved = np.roll(sim.cuts, PROFILE_MOVE)[y.index.day_of_week]
        changed = np.where(sim.latent > moved, sim.high_values, sim.low_values)
        y.iloc[after] = changed[after]
    elif scenario == "sudden_break":
        y.iloc[after] *= BREAK_FACTOR
    elif scenario != "stable":
        raise ValueError(f"unknown scenario {scenario!r}")
    return y


def score(check: dict) -> float:
    """The number compared with the check's constant: fired exactly when it exceeds the constant."""
    value = check["statistic"]
    if value is None:
        return math.inf
    if check["name"] in ("level_shift", "variance_change"):
        return abs(value)
    if check["name"] == "mase_ratio":
        return math.sqrt(check["detail"]["points"]) * (value - 1)
    return value


def served_frame(model) -> pd.DataFrame:
    frame = model.predict(HORIZON, levels=(80, 95))
    frame["version"] = "bench"
    return frame


def runs_of(y: pd.Series, trained_through: date, served, expected, errors: pd.DataFrame, first: int, last: int):
    """Scores and fired flags of each daily run whose data end at positions first..last (inclusive)."""
    out = []
    by_date = errors.set_index("date")
    for end in range(first, last + 1):
        data = y.iloc[: end + 1]
        dates = [d.date().isoformat() for d in data.index[-RUNS:]]
        window_errors = by_date.reindex(dates).dropna().reset_index()
        result = evaluate(
            data,
            freq="D",
            trained_through=trained_through,
            served=served,
            expected_mase=expected,
            one_step=window_errors,
        )
        checks = {c.name: {"name": c.name, **c.to_dict()} for c in [*result.drift, *result.decay]}
        out.append(
            {
                name: (score(checks[name]), bool(checks[name]["fired"])) if name in checks else (-math.inf, False)
                for name in CHECKS
            }
        )
    return out


def run_series(args: tuple[int, bool]) -> dict:
    """Every scenario of one simulated series (only the stable one when calibrating)."""
    seed, calibrating = args
    character = sample_character()
    days = TRAIN_DAYS + BREAK_LATEST + RUNS
    sim = simulate(character, seed, days)
    train = sim.y.iloc[:TRAIN_DAYS]
    selection = select_model(train)
    model = selection.model
    expected = selection.backtest["metrics"]["mase"]
    served = served_frame(model)
    trained_through = train.index[-1].date()
    sd = noise_sd(train.to_numpy())
    rng = np.random.default_rng(seed + 7)
    break_day = TRAIN_DAYS + int(rng.integers(0, BREAK_LATEST))
    first_position = TRAIN_DAYS - RUNS + 1  # one-step errors of the first run's window
    shared_errors = one_step_errors(sim.y, selection.spec, range(first_position, TRAIN_DAYS))
    result = {"seed": seed, "model": selection.spec["name"], "scenarios": {}}
    for scenario in ("stable",) if calibrating else SCENARIOS:
        start = break_day if scenario == "sudden_break" else TRAIN_DAYS
        y = inject(sim, scenario, start, sd)
        last = start + RUNS - 1
        errors = pd.concat(
            [shared_errors, one_step_errors(y, selection.spec, range(TRAIN_DAYS, last + 1))], ignore_index=True
        )
        runs = runs_of(y, trained_through, served, expected, errors, TRAIN_DAYS, last)
        entry = {"runs": runs, "start": start - TRAIN_DAYS}
        if scenario == "variance_doubled":
            expected_values = sim.expected()[start : last + 1]
            before = sim.y.to_numpy()[start : last + 1] - expected_values
            after = y.to_numpy()[start : last + 1] - expected_values
            entry["variance_ratio"] = float(np.mean(after**2) / np.mean(before**2))
        if scenario == "stable":
            entry["z_sd"] = float(errors["z"].std())
        result["scenarios"][scenario] = entry
    return result


def collect(seeds: list[int], calibrating: bool, jobs: int) -> list[dict]:
    tasks = [(seed, calibrating) for seed in seeds]
    done = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for i, result in enumerate(pool.map(run_series, tasks, chunksize=2), 1):
            done.append(result)
            if i % 20 == 0 or i == len(tasks):
                print(f"  {i}/{len(tasks)} series, {time.perf_counter() - started:.0f} s", flush=True)
    return done


def calibrate(results: list[dict]) -> dict[str, float]:
    """Per check, the CALIBRATION_QUANTILE of the largest score over the 28 runs of each stable series."""
    out = {}
    for name in CHECKS:
        peaks = [max(run[name][0] for run in r["scenarios"]["stable"]["runs"]) for r in results]
        finite = [p for p in peaks if math.isfinite(p)]
        out[name] = float(np.quantile(finite, CALIBRATION_QUANTILE)) if finite else float("nan")
    return out


def first_detection(runs: list[dict], start: int, names: tuple[str, ...]) -> int | None:
    """Changed days observed by the first run (from the change on) where one of `names` fired."""
    for i, run in enumerate(runs[start:]):
        if any(run[name][1] for name in names):
            return i + 1
    return None


def evaluate_results(results: list[dict]) -> dict:
    """False-alarm rates on stable series and detection rates and delays on each change."""
    report: dict = {"series": len(results), "false_alarm": {}, "detection": {}}
    stable = [r["scenarios"]["stable"]["runs"] for r in results]
    for name in CHECKS:
        report["false_alarm"][name] = float(np.mean([any(run[name][1] for run in runs) for runs in stable]))
    for group, names in (("any drift check", DRIFT_CHECKS), ("any decay check", DECAY_CHECKS), ("any check", CHECKS)):
        report["false_alarm"][group] = float(np.mean([first_detection(runs, 0, names) is not None for runs in stable]))
    for scenario in SCENARIOS[1:]:
        delays, per_check = [], {name: 0 for name in CHECKS}
        for r in results:
            entry = r["scenarios"][scenario]
            runs, start = entry["runs"], entry["start"]
            delays.append(first_detection(runs, start, CHECKS))
            for name in CHECKS:
                per_check[name] += first_detection(runs, start, (name,)) is not None
        found = [d for d in delays if d is not None]
        report["detection"][scenario] = {
            "rate": len(found) / len(results),
            "median_delay_days": float(np.median(found)) if found else None,
            "per_check": {name: count / len(results) for name, count in per_check.items()},
        }
    ratios = [r["scenarios"]["variance_doubled"]["variance_ratio"] for r in results]
    report["variance_doubled_realized_ratio_median"] = float(np.median(ratios))
    report["z_sd_median"] = float(np.median([r["scenarios"]["stable"]["z_sd"] for r in results]))
    models: dict[str, int] = {}
    for r in results:
        models[r["model"]] = models.get(r["model"], 0) + 1
    report["champions"] = models
    return report


def print_evaluation(report: dict) -> None:
    print(f"\n{report['series']} simulated series; champions selected: {report['champions']}")
    print(f"median sd of the standardized one-step errors on stable series: {report['z_sd_median']:.2f}")
    print("\n| check | threshold | false alarms (stable, 28 daily runs) |")
    print("|---|---:|---:|")
    constants = current_thresholds()
    for name, rate in report["false_alarm"].items():
        print(f"| {name} | {constants.get(name, '')} | {100 * rate:.1f}% |")
    print("\n| change | detected within 28 days | median delay (days) | checks that fired (share of series) |")
    print("|---|---:|---:|---|")
    for scenario, row in report["detection"].items():
        fired = ", ".join(f"{k} {100 * v:.0f}%" for k, v in row["per_check"].items() if v >= 0.1)
        print(f"| {scenario} | {100 * row['rate']:.1f}% | {row['median_delay_days']} | {fired} |")
    ratio = report["variance_doubled_realized_ratio_median"]
    print(f"\nvariance_doubled: realized variance ratio (median) {ratio:.2f}")


def current_thresholds() -> dict[str, str]:
    return {
        "ks": f"{th.KS_SCALED:g}",
        "psi": f"{th.PSI:g}",
        "wasserstein": f"{th.WASSERSTEIN:g}",
        "level_shift": f"{th.LEVEL_SHIFT:g}",
        "variance_change": f"{th.VARIANCE_LOG_RATIO:g}",
        "seasonal_profile": f"{th.PROFILE:g}",
        "mase_ratio": f"1 + {th.MASE_RATIO_K:g}/sqrt(n)",
        "cusum_mean": f"h {th.CUSUM_MEAN_H:g}, k {th.CUSUM_MEAN_K:g}",
        "cusum_scale": f"h {th.CUSUM_SCALE_H:g}, k {th.CUSUM_SCALE_K:g}",
    }


def adventureworks_check() -> dict:
    """The sample's last 28 days against a champion selected on the months before, as the monitor checks them."""
    y = adventureworks()
    train = y.iloc[:-RUNS]
    selection = select_model(train)
    served = served_frame(selection.model)
    errors = one_step_errors(y, selection.spec, range(len(y) - RUNS, len(y)))
    result = evaluate(
        y,
        freq="D",
        trained_through=train.index[-1].date(),
        served=served,
        expected_mase=selection.backtest["metrics"]["mase"],
        one_step=errors,
    )
    return {
        "champion": selection.spec["name"],
        "window": result.window,
        "reference": result.reference,
        "checks": {c.name: c.to_dict() for c in [*result.drift, *result.decay]},
        "drift_fired": result.drift_fired,
        "decay_fired": result.decay_fired,
    }


def oracle_runs(y: pd.Series, first: int, last: int) -> list[float]:
    """Log-likelihood ratio of each daily run's window: the moved weekly profile against the reference's.

    This test knows what no monitor can: that days are either busy or quiet (split as in
    `sample_character`), each weekday's share of busy days in the reference, and exactly how the profile
    will move. It treats days as independent. Its detection rate bounds what a profile test can
    achieve at the same false-alarm rate on these series.
    """
    values = y.to_numpy(dtype=float)
    weekday = np.asarray(y.index.day_of_week)
    busy = (values > two_means_split(values[:TRAIN_DAYS])).astype(float)
    out = []
    for end in range(first, last + 1):
        start = end + 1 - RUNS
        reference = slice(0, min(start, TRAIN_DAYS))
        share = np.array([busy[reference][weekday[reference] == d].mean() for d in range(7)]).clip(0.02, 0.98)
        moved = np.roll(share, PROFILE_MOVE)
        b, d = busy[start : end + 1], weekday[start : end + 1]
        out.append(float(np.sum(b * np.log(moved[d] / share[d]) + (1 - b) * np.log((1 - moved[d]) / (1 - share[d])))))
    return out


ORACLE_QUANTILES = (0.95, 0.97, CALIBRATION_QUANTILE, 0.99)


def oracle(series: int) -> dict:
    """The oracle profile test calibrated like the checks (at several quantiles): false alarms and detections."""
    character = sample_character()
    days = TRAIN_DAYS + BREAK_LATEST + RUNS

    def runs(seed: int, scenario: str) -> list[float]:
        sim = simulate(character, seed, days)
        y = inject(sim, scenario, TRAIN_DAYS, noise_sd(sim.y.to_numpy()[:TRAIN_DAYS]))
        return oracle_runs(y, TRAIN_DAYS, TRAIN_DAYS + RUNS - 1)

    calibration = [max(runs(seed, "stable")) for seed in range(CALIBRATION_SEED, CALIBRATION_SEED + 300)]
    stable = [max(runs(seed, "stable")) for seed in range(series)]
    changed = [runs(seed, "profile_changed") for seed in range(series)]
    out = {}
    for quantile in ORACLE_QUANTILES:
        threshold = float(np.quantile(calibration, quantile))
        delays = [next((i + 1 for i, value in enumerate(path) if value > threshold), None) for path in changed]
        found = [d for d in delays if d is not None]
        out[f"{quantile:.1%}"] = {
            "threshold": threshold,
            "false_alarm": float(np.mean([peak > threshold for peak in stable])),
            "profile_changed_detection": len(found) / series,
            "median_delay_days": float(np.median(found)) if found else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=200, help="simulated series (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--calibrate", action="store_true", help="print thresholds from stable series instead")
    parser.add_argument("--adventureworks", action="store_true", help="check the sample's last month only")
    parser.add_argument(
        "--oracle", action="store_true", help="the profile test that knows the change (an upper bound) only"
    )
    parser.add_argument("--json", help="also write the summary to this file")
    parser.add_argument("--raw", help="also write every run's scores to this file (JSON), for re-analysis")
    args = parser.parse_args()
    print(machine())
    started = time.perf_counter()
    if args.adventureworks:
        found = adventureworks_check()
        print(json.dumps(found, indent=2))
        output = found
    elif args.oracle:
        output = oracle(args.series)
        print(json.dumps(output, indent=2))
    else:
        character = sample_character()
        print(f"sample character: {character.describe()}")
        offset = CALIBRATION_SEED if args.calibrate else 0
        results = collect(list(range(offset, offset + args.series)), args.calibrate, args.jobs)
        if args.raw:
            with open(args.raw, "w") as handle:
                json.dump(results, handle)
        if args.calibrate:
            output = calibrate(results)
            print(f"\n{CALIBRATION_QUANTILE:.1%} quantile of each check's largest score over 28 daily runs:")
            for name, value in output.items():
                print(f"  {name}: {value:.3f}")
        else:
            output = evaluate_results(results)
            print_evaluation(output)
    print(f"\n{time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(output, handle, indent=2, default=str)


if __name__ == "__main__":
    main()
