"""Calendar frequency of a series: inference, season length, regular index, future dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Season length implied by each frequency family (first letter(s) of the pandas alias).
SEASON_LENGTH = {"D": 7, "W": 52, "M": 12, "Q": 4, "Y": 1}

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def family(freq: str) -> str:
    """Frequency family letter ("D", "W", "M", "Q" or "Y") of a pandas offset alias."""
    head = freq.split("-")[0].upper()
    if head in ("D", "W"):
        return head
    if head in ("MS", "ME", "M"):
        return "M"
    if head in ("QS", "QE", "Q"):
        return "Q"
    if head in ("YS", "YE", "Y", "AS", "A"):
        return "Y"
    raise ValueError(f"unsupported frequency {freq!r}: expected daily, weekly, monthly, quarterly or yearly")


def season_length(freq: str) -> int:
    """Seasonal period implied by the frequency: 7 daily, 52 weekly, 12 monthly, 4 quarterly, 1 yearly."""
    return SEASON_LENGTH[family(freq)]


def _month_anchor(index: pd.DatetimeIndex) -> str:
    """ "S" if every date is a month start, "E" if every date is a month end, else raise."""
    if (index.day == 1).all():
        return "S"
    if index.is_month_end.all():
        return "E"
    raise ValueError("monthly, quarterly or yearly dates must all be month starts or all month ends")


def infer_frequency(index: pd.DatetimeIndex) -> str:
    """Pandas offset alias of a (possibly gappy) date index; ValueError if the dates are irregular."""
    index = pd.DatetimeIndex(index)
    if len(index) < 2:
        raise ValueError("at least 2 dates are needed to infer a frequency")
    if index.has_duplicates:
        raise ValueError(f"duplicate date {index[index.duplicated()][0].date()} in the index")
    if not index.is_monotonic_increasing:
        index = index.sort_values()
    if not (index == index.normalize()).all():
        raise ValueError("dates carry a time of day; expected calendar dates")
    days = np.diff(index.to_numpy().astype("datetime64[D]").astype(np.int64))
    step = int(days.min())
    if step == 1:
        return "D"
    if step == 7 and (days % 7 == 0).all():
        return f"W-{_WEEKDAYS[index[0].weekday()]}"
    months = index.year * 12 + index.month
    month_steps = np.diff(months)
    if 28 <= step <= 31:
        anchor = _month_anchor(index)
        return f"M{anchor}"
    if 89 <= step <= 92 and (month_steps % 3 == 0).all():
        anchor = _month_anchor(index)
        # Pandas anchors QS on the first month of a quarter and QE on the last one.
        first = (int(index[0].month) - 1) % 3 if anchor == "S" else (int(index[0].month) - 1) % 3 + 9
        base = f"Q{anchor}"
        default = 0 if anchor == "S" else 11
        return base if first == default else f"{base}-{_MONTHS[first]}"
    if 365 <= step <= 366 and (month_steps % 12 == 0).all():
        anchor = _month_anchor(index)
        month = int(index[0].month) - 1
        base = f"Y{anchor}"
        default = 0 if anchor == "S" else 11
        return base if month == default else f"{base}-{_MONTHS[month]}"
    raise ValueError(
        f"irregular dates: smallest step is {step} days; expected daily, weekly, monthly, quarterly or yearly"
    )


def full_index(index: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """Every date of the frequency from the first to the last date; ValueError if a date is off-grid."""
    full = pd.date_range(index.min(), index.max(), freq=freq)
    off_grid = pd.DatetimeIndex(index).difference(full)
    if len(off_grid):
        raise ValueError(f"date {off_grid[0].date()} does not fall on the {freq} calendar")
    return full


def regularize(y: pd.Series, freq: str | None = None) -> tuple[pd.Series, int]:
    """Series on its full regular index, gaps and missing values filled by linear interpolation.

    Returns the regular float series and how many values were filled. Leading or trailing missing
    values are filled with the nearest observation.
    """
    if not isinstance(y.index, pd.DatetimeIndex):
        raise ValueError("series index must be a DatetimeIndex")
    y = y.sort_index()
    observed = y.dropna()
    if len(observed) == 0:
        raise ValueError("series has no observed values")
    freq = freq or infer_frequency(y.index)
    index = full_index(y.index, freq)
    regular = pd.Series(y.reindex(index).to_numpy(dtype=float), index=index, name=y.name)
    missing = int(regular.isna().sum())
    if missing:
        regular = regular.interpolate(method="linear", limit_direction="both")
    regular.index.freq = pd.tseries.frequencies.to_offset(freq)
    return regular, missing


def future_index(last: pd.Timestamp, freq: str, h: int) -> pd.DatetimeIndex:
    """The h dates that follow `last` on the frequency's calendar."""
    return pd.date_range(last, periods=h + 1, freq=freq)[1:]
