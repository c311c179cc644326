"""Model selection engine: candidates, rolling-origin backtests, calibration, decision and batch forecasts."""

from .base import Forecaster
from .batch import forecast_file, forecast_frame
from .families import fit_spec
from .frequency import infer_frequency, regularize
from .selection import Selection, select_model

__all__ = [
    "Forecaster",
    "Selection",
    "fit_spec",
    "forecast_file",
    "forecast_frame",
    "infer_frequency",
    "regularize",
    "select_model",
]
