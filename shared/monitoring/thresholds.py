"""Alarm thresholds of the drift and decay checks, calibrated by bench/drift_calibration.py."""

# Each threshold is the 97.5th percentile of the check's largest score over 28 daily runs on 300 stable
# simulated series with the AdventureWorks sample's character (`python -m bench.drift_calibration
# --calibrate --series 300`, seeds 100000-100299), rounded up: a stable daily series then raises a
# given check in a 28-day period with a probability of about 2.5% (at most 5% on the evaluation seeds,
# bench/README.md). The constants hold for daily series and the default 28-day window; other
# frequencies and windows use them unchanged, without a calibration of their own.

KS_SCALED = 2.37  # Kolmogorov–Smirnov D * sqrt(nm / (n + m))
PSI = 1.00  # population stability index, 5 quantile bins of the reference
WASSERSTEIN = 0.82  # Wasserstein-1 distance / reference standard deviation
LEVEL_SHIFT = 0.82  # |mean normal score| of the window's values ranked within their weekday in the reference
VARIANCE_LOG_RATIO = 1.39  # |log ratio| of mean squared weekday standard scores on log(1 + y), window median-centred
PROFILE = 26.0  # sum of count x (weekday mean normal score - mean normal score)^2
MASE_RATIO_K = 2.89  # the MASE ratio fires above 1 + MASE_RATIO_K / sqrt(served days)
CUSUM_CLIP = 3.0  # standardized one-step errors are clipped to +-3 before the CUSUMs (fixed, not fitted)
CUSUM_MEAN_K = 0.5  # reference value for a one-standard-deviation shift (fixed, not fitted)
CUSUM_MEAN_H = 7.60  # decision interval of the two-sided mean CUSUM
CUSUM_SCALE_K = 1.5  # reference value of the squared errors, between 1 and a doubled variance (fixed)
CUSUM_SCALE_H = 17.84  # decision interval of the upper CUSUM of squared errors
