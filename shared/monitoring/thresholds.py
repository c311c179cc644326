"""Alarm thresholds of the monitor's checks, calibrated by bench/drift_calibration.py.

ALERTING holds, per threshold class, the threshold of each alerting check of shared.monitoring.evidence.
The class is what the monitor knows of a series when it checks it (`series_class`): its frequency family
(daily and weekly data "D", monthly, quarterly and yearly data "M"), whether its champion was trained on
a short history, and for daily data whether it is low counts. Each class's thresholds are calibrated
together, family-wise, on the stable corpus (bench/drift_corpus.py): on every stratum of the class at
most 3% of stable calibration series raise any alert within their runs (28 daily runs after a retrain,
the run right after it included; 6 monthly runs). The raw-value thresholds below are not alarms: a
raw-value check reports whether it is beyond its former threshold as evidence only.
"""

import numpy as np

SHORT_HISTORY = {"D": 180, "W": 52, "M": 48, "Q": 16, "Y": 8}  # fewer training points: the "_short" class
COUNT_MEAN = 5.0  # daily whole numbers averaging at most this: the "_counts" class

ALERTING = {
    "D": {
        "bias": 5.295,
        "mean_score": 8.143,
        "cusum_bias": 16.411,
        "scale": 17.188,
        "profile": 42.074,
        "spread": 1.314,
        "coverage": 9.191,
        "mase_ratio": 8.133,
    },
    "D_short": {
        "bias": 6.423,
        "mean_score": 7.382,
        "cusum_bias": 21.223,
        "scale": 17.957,
        "profile": 52.058,
        "spread": 1.411,
        "coverage": 5.723,
        "mase_ratio": 7.942,
    },
    "D_counts": {  # no spread: week-on-week differences of low counts are mostly 0 and +-1
        "bias": 4.522,
        "mean_score": 4.53,
        "cusum_bias": 10.906,
        "scale": 11.251,
        "profile": 37.778,
        "coverage": 3.989,
        "mase_ratio": 4.712,
    },
    "M": {
        "bias": 4.441,
        "mean_score": 4.659,
        "cusum_bias": 7.402,
        "scale": 8.2,
        "coverage": 7.55,
        "mase_ratio": 4.187,
    },
    "M_short": {
        "bias": 10.467,
        "mean_score": 10.467,
        "cusum_bias": 11.61,
        "scale": 9.186,
        "coverage": 10.677,
        "mase_ratio": 7.515,
    },
}
# `python -m bench.drift_calibration --calibrate --calibration-series 100 --cache C --raw cal.json`, then
# `--report cal.json eval.json`: 100 stable series per stratum (seeds 100000-100099), a common quantile q per
# class keeping every stratum and case at or below 3% of series alerting: D (7 strata) q = 0.9979, M (3
# strata) q = 0.9983; D_short, D_counts and M_short (one stratum each) q = 0.995.
CALIBRATION = {
    "D": {"quantile": 0.9979, "series_per_stratum": 100},
    "D_short": {"quantile": 0.995, "series_per_stratum": 100},
    "D_counts": {"quantile": 0.995, "series_per_stratum": 100},
    "M": {"quantile": 0.9983, "series_per_stratum": 100},
    "M_short": {"quantile": 0.995, "series_per_stratum": 100},
}

# Raw values of the window against the champion's training data (evidence only, never alarms).
KS_SCALED = 2.37  # Kolmogorov–Smirnov D * sqrt(nm / (n + m))
PSI = 1.00  # population stability index, 5 quantile bins of the reference
WASSERSTEIN = 0.82  # Wasserstein-1 distance / reference standard deviation
LEVEL_SHIFT = 0.82  # |mean normal score| of the window's values ranked within their weekday in the reference
VARIANCE_LOG_RATIO = 1.39  # |log ratio| of mean squared weekday standard scores on log(1 + y), window median-centred
PROFILE = 26.0  # sum of count x (weekday mean normal score - mean normal score)^2


def series_class(family: str, trained=None) -> str:
    """The threshold class of a series: its frequency family's ("D" for daily and weekly data, "M" for
    monthly, quarterly and yearly), with "_short" for a champion trained on fewer than SHORT_HISTORY
    points and, for daily data, "_counts" for low counts (whole numbers averaging at most COUNT_MEAN).
    `trained` holds the values the champion was trained on (None: the family's regular class).
    """
    base = "D" if family in ("D", "W") else "M"
    if trained is None:
        return base
    values = np.asarray(trained, dtype=float)
    if len(values) < SHORT_HISTORY[family]:
        return f"{base}_short"
    if base == "D" and len(values) and np.all(values == np.round(values)) and float(np.mean(values)) <= COUNT_MEAN:
        return f"{base}_counts"
    return base


def thresholds_for(klass: str) -> dict[str, float]:
    """The alerting thresholds of a threshold class (`series_class`; a bare family letter is its regular class)."""
    return ALERTING[klass] if klass in ALERTING else ALERTING[series_class(klass)]
