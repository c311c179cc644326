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
        "bias": 4.0,
        "cusum_bias": 9.0,
        "scale": 18.0,
        "profile": 22.0,
        "coverage": 6.0,
        "mase_ratio": 6.0,
    },
    "M": {
        "bias": 4.0,
        "cusum_bias": 6.0,
        "scale": 12.0,
        "profile": 22.0,
        "coverage": 6.0,
        "mase_ratio": 6.0,
    },
}
CALIBRATION = {"quantile": None, "series": None, "command": None}  # filled in by the calibration run

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
