"""Alarm thresholds of the monitor's checks, calibrated by bench/drift_calibration.py.

ALERTING holds, per frequency family, the threshold of each alerting check of shared.monitoring.evidence.
They are calibrated together, family-wise: every check's threshold is the same upper quantile of its
largest statistic over the runs of stable simulated series, that quantile chosen so that on every
stratum of the stable corpus at most 4% of series raise any alert within their runs (28 daily runs after
a retrain, the run right after it included; 6 monthly runs). Weekly data use the daily thresholds,
quarterly and yearly data the monthly ones. The raw-value thresholds below are not alarms: a raw-value
check reports whether it is beyond its former threshold as evidence only.
"""

ALERTING = {
    "D": {
        "bias": 6.507,
        "cusum_bias": 21.167,
        "scale": 30.607,
        "profile": 74.035,
        "coverage": 14.394,
        "mase_ratio": 8.419,
    },
    "M": {"bias": 5.054, "cusum_bias": 8.271, "scale": 7.891, "coverage": 7.695, "mase_ratio": 4.831},
}
# `python -m bench.drift_calibration --calibrate --calibration-series 25 --raw cal.json`, then `--report`:
# 25 stable series per stratum (seeds 100000-100024). Monthly: q = 0.995. Daily: no q below 1 kept every
# stratum and case at 4% (one series in 25), so each daily threshold is its check's largest statistic on
# the calibration series (q = 1); bench/README.md has what that costs in detection.
CALIBRATION = {"D": {"quantile": 1.0, "series_per_stratum": 25}, "M": {"quantile": 0.995, "series_per_stratum": 25}}

# Raw values of the window against the champion's training data (evidence only, never alarms).
KS_SCALED = 2.37  # Kolmogorov–Smirnov D * sqrt(nm / (n + m))
PSI = 1.00  # population stability index, 5 quantile bins of the reference
WASSERSTEIN = 0.82  # Wasserstein-1 distance / reference standard deviation
LEVEL_SHIFT = 0.82  # |mean normal score| of the window's values ranked within their weekday in the reference
VARIANCE_LOG_RATIO = 1.39  # |log ratio| of mean squared weekday standard scores on log(1 + y), window median-centred
PROFILE = 26.0  # sum of count x (weekday mean normal score - mean normal score)^2


def thresholds_for(family: str) -> dict[str, float]:
    """The alerting thresholds of a frequency family ("D", "W", "M", "Q", "Y")."""
    return ALERTING["D" if family in ("D", "W") else "M"]
