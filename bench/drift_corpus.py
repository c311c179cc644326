"""The monitor's stable corpus: simulated series of the shapes a retailer's estate has, and the changes injected.

Each stratum draws its parameters per seed. Continuous strata are signal + noise: a level that is flat,
grows or shrinks by a constant yearly rate (from -50% to +60% a year) or by a damped one, weekly (daily
data) and yearly seasonality, additive or multiplicative, and AR(1) noise whose standard deviation is a
share of the level, fixed at the level of the training end or following the level (faster than the
level in the level-dependent stratum). The AdventureWorks stratum reproduces the sample's two-regime
days (high days near 1,000, low days near 200, a weekday-specific share of high days with persistence);
its character is estimated from the sample. The intermittent stratum draws Poisson counts with a mean
of 0.3 to 3 a day and a weekly profile, so most days are zero or one.

Changes start the day (month) after the champion's training end, on the same random draws:
- level: +1 noise standard deviation (at the training end);
- variance: the noise scaled by sqrt(2) (counts: negative binomial with twice the Poisson variance);
- break: sales halve, on a random day of the first 14 days (month of the first 3 months);
- profile (daily, weekly seasonal strata): the weekly pattern moves by three days, level unchanged;
- slope: the level departs linearly, by 2 noise standard deviations after 28 days (6 months).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from bench.common import adventureworks

PERSISTENCE_ITERATIONS = 3
MAX_COEFFICIENT = 0.95  # latent lag-1 and lag-7 coefficients stay below a unit root
PROFILE_MOVE = 3  # days the weekly profile moves
BREAK_FACTOR = 0.5
SLOPE_SDS = 2.0  # the slope change reaches this many noise sds after one window
BLOCK = 28  # days of the blocks the AdventureWorks noise sd is measured in


@dataclass(frozen=True)
class Stratum:
    """One shape of the corpus: frequency, training history at the retrain, and how series are drawn."""

    name: str
    freq: str
    history: int  # points the champion is trained on at the retrain (the previous champion: one window fewer)
    kind: str  # "continuous", "adventureworks" or "intermittent"
    trend: tuple[float, float] = (0.0, 0.0)  # yearly growth range
    damped: bool = False
    weekly: str | None = None  # "add" or "mult" (daily)
    yearly: str | None = None  # "add" or "mult"
    noise: str = "fixed"  # "fixed" (sd at the training end's level), "level" or "steep" (sd ~ level^1.5)
    description: str = ""

    @property
    def daily(self) -> bool:
        return self.freq == "D"

    @property
    def window(self) -> int:
        return 28 if self.daily else 6

    @property
    def weekly_seasonal(self) -> bool:
        return (self.daily and self.kind != "continuous") or self.weekly is not None


STRATA = [
    Stratum("d_flat_additive", "D", 365, "continuous", weekly="add", description="daily, flat, additive weekly"),
    Stratum(
        "d_growing_mult",
        "D",
        365,
        "continuous",
        (0.2, 0.6),
        weekly="mult",
        noise="level",
        description="daily, +20..+60%/yr, multiplicative weekly",
    ),
    Stratum(
        "d_shrinking_add",
        "D",
        365,
        "continuous",
        (-0.5, -0.2),
        weekly="add",
        description="daily, -50..-20%/yr, additive weekly",
    ),
    Stratum(
        "d_damped",
        "D",
        365,
        "continuous",
        (-0.5, 0.6),
        damped=True,
        weekly="mult",
        description="daily, damped trend, multiplicative weekly",
    ),
    Stratum(
        "d_yearly",
        "D",
        730,
        "continuous",
        (-0.2, 0.3),
        weekly="mult",
        yearly="mult",
        noise="level",
        description="daily, two years, multiplicative weekly and yearly",
    ),
    Stratum("d_adventureworks", "D", 277, "adventureworks", description="daily, AdventureWorks two-regime days"),
    Stratum(
        "d_intermittent", "D", 365, "intermittent", (-0.3, 0.3), description="daily counts, mean 0.3-3, many zeros"
    ),
    Stratum(
        "d_short",
        "D",
        90,
        "continuous",
        (-0.5, 0.6),
        weekly="mult",
        noise="level",
        description="daily, 90 days of history, trending",
    ),
    Stratum(
        "d_level_noise",
        "D",
        365,
        "continuous",
        (-0.5, 0.6),
        weekly="add",
        noise="steep",
        description="daily, trending, noise sd ~ level^1.5",
    ),
    Stratum("m_flat_additive", "MS", 96, "continuous", yearly="add", description="monthly, flat, additive yearly"),
    Stratum(
        "m_trend_mult",
        "MS",
        96,
        "continuous",
        (-0.5, 0.6),
        yearly="mult",
        noise="level",
        description="monthly, -50..+60%/yr, multiplicative yearly",
    ),
    Stratum(
        "m_damped",
        "MS",
        96,
        "continuous",
        (-0.5, 0.6),
        damped=True,
        yearly="add",
        description="monthly, damped trend, additive yearly",
    ),
    Stratum(
        "m_short",
        "MS",
        24,
        "continuous",
        (-0.5, 0.6),
        yearly="mult",
        noise="level",
        description="monthly, 24 months of history, trending",
    ),
]
STRATUM = {s.name: s for s in STRATA}


@dataclass
class Drawn:
    """One stable series of a stratum and what its changes and the profile oracle need."""

    stratum: Stratum
    index: pd.DatetimeIndex
    y: np.ndarray
    sd: float  # noise standard deviation at the training end: the size of the level and slope changes
    parts: dict  # the generator's components (signal, noise, rates, draws)

    @property
    def train_end(self) -> int:
        return self.stratum.history

    def series(self, values: np.ndarray) -> pd.Series:
        out = pd.Series(values, index=self.index)
        out.index.freq = self.stratum.freq
        return out

    def inject(self, scenario: str, start: int) -> np.ndarray:
        """The series with one change from position `start` on (the stable series for "stable")."""
        if scenario == "stable":
            return self.y.copy()
        after = np.arange(len(self.y)) >= start
        steps = np.clip(np.arange(len(self.y)) - start + 1, 0, None) / self.stratum.window
        kind = self.stratum.kind
        if kind == "intermittent":
            rate = self.parts["rate"]
            u = self.parts["u"]
            if scenario == "variance":
                changed = stats.nbinom.ppf(u, rate, 0.5)
            else:
                new_rate = {
                    "level": rate + self.sd,
                    "break": BREAK_FACTOR * rate,
                    "profile": self.parts["rate_moved"],
                    "slope": rate + SLOPE_SDS * self.sd * steps,
                }[scenario]
                changed = stats.poisson.ppf(u, new_rate)
        elif kind == "adventureworks":
            sim = self.parts["sim"]
            y = self.y
            changed = {
                "level": lambda: y + self.sd,
                "variance": lambda: np.maximum(sim.expected() + math.sqrt(2) * (y - sim.expected()), 1.0),
                "break": lambda: BREAK_FACTOR * y,
                "profile": lambda: np.where(
                    sim.latent > np.roll(sim.cuts, PROFILE_MOVE)[self.index.day_of_week],
                    sim.high_values,
                    sim.low_values,
                ),
                "slope": lambda: y + SLOPE_SDS * self.sd * steps,
            }[scenario]()
        else:
            signal, noise = self.parts["signal"], self.parts["noise"]
            changed = {
                "level": lambda: self.y + self.sd,
                "variance": lambda: np.maximum(signal + math.sqrt(2) * noise, 0.0),
                "break": lambda: BREAK_FACTOR * self.y,
                "profile": lambda: np.maximum(self.parts["signal_moved"] + noise, 0.0),
                "slope": lambda: self.y + SLOPE_SDS * self.sd * steps,
            }[scenario]()
        return np.where(after, changed, self.y)

    def oracle_llr(self, values: np.ndarray, positions: np.ndarray, scenario: str = "profile") -> float | None:
        """Log-likelihood ratio of `scenario`'s change against none on `positions` (None where not modelled).

        The oracle knows what no monitor can: the expected value of every day with and without the
        change, the noise (its standard deviation and AR(1) coefficient; or the counts' rates; or, for
        AdventureWorks, each day's chance of being a high day) and exactly what the change is. It bounds
        what any monitor can detect at the same false-alarm rate. AdventureWorks has the profile oracle only.
        """
        kind = self.stratum.kind
        x = values[positions]
        if len(positions) == 0:
            return 0.0
        steps = (positions - positions[0] + 1) / self.stratum.window
        if kind == "intermittent":
            lam0 = self.parts["rate"][positions]
            if scenario == "variance":
                return float(np.sum(stats.nbinom.logpmf(x, lam0, 0.5) - stats.poisson.logpmf(x, lam0)))
            lam1 = {
                "level": lambda: lam0 + self.sd,
                "break": lambda: BREAK_FACTOR * lam0,
                "profile": lambda: self.parts["rate_moved"][positions],
                "slope": lambda: lam0 + SLOPE_SDS * self.sd * steps,
            }[scenario]()
            return float(np.sum(x * np.log(lam1 / lam0) - (lam1 - lam0)))
        if kind == "adventureworks":
            if scenario != "profile":
                return None
            p0, p1 = self.parts["p_high"][positions], self.parts["p_high_moved"][positions]
            high = x > self.parts["cut"]
            return float(np.sum(np.where(high, np.log(p1 / p0), np.log((1 - p1) / (1 - p0)))))
        mu0, sd0 = self.parts["signal"][positions], self.parts["noise_sd"][positions]
        mu1, sd1 = {
            "level": lambda: (mu0 + self.sd, sd0),
            "variance": lambda: (mu0, math.sqrt(2) * sd0),
            "break": lambda: (BREAK_FACTOR * mu0, BREAK_FACTOR * sd0),
            "profile": lambda: (self.parts["signal_moved"][positions], sd0),
            "slope": lambda: (mu0 + SLOPE_SDS * self.sd * steps, sd0),
        }[scenario]()
        phi = self.parts["phi"]

        def loglik(mu: np.ndarray, sd: np.ndarray) -> float:
            e = (x - mu) / sd  # AR(1) with unit variance: innovations e_t - phi e_(t-1), variance 1 - phi^2
            a = np.concatenate([[e[0] * math.sqrt(1 - phi**2)], e[1:] - phi * e[:-1]])
            return float(-np.sum(np.log(sd)) - np.sum(a**2) / (2 * (1 - phi**2)))

        return loglik(mu1, sd1) - loglik(mu0, sd0)


def _index(stratum: Stratum, total: int) -> pd.DatetimeIndex:
    start = "2022-01-03" if stratum.daily else "2012-01-01"
    return pd.date_range(start, periods=total, freq=stratum.freq)


def _log_level(stratum: Stratum, rng: np.random.Generator, t: np.ndarray, per_year: float) -> np.ndarray:
    """Log of the level relative to the training end: constant yearly growth, or growth that dies out."""
    growth = rng.uniform(*stratum.trend) if stratum.trend != (0.0, 0.0) else 0.0
    rate = math.log1p(growth) / per_year
    if stratum.damped:
        phi = 0.995 if stratum.daily else 0.9
        path = rate * (1 - phi**t) / (1 - phi)
    else:
        path = rate * t
    return path - path[stratum.history - 1]


def _ar_noise(rng: np.random.Generator, n: int) -> tuple[np.ndarray, float]:
    """AR(1) noise of unit variance and its coefficient (drawn from 0 to 0.5)."""
    phi = rng.uniform(0.0, 0.5)
    shocks = rng.standard_normal(n) * math.sqrt(1 - phi**2)
    e = np.empty(n)
    e[0] = rng.standard_normal()
    for t in range(1, n):
        e[t] = phi * e[t - 1] + shocks[t]
    return e, phi


def _profile(rng: np.random.Generator, spread: float) -> np.ndarray:
    w = rng.uniform(-spread, spread, 7)
    return w - w.mean()


def draw(stratum: Stratum, seed: int, total: int, character=None) -> Drawn:
    """A stable series of the stratum, `total` points long (the champion trains on the first `history`)."""
    rng = np.random.default_rng(seed)
    index = _index(stratum, total)
    t = np.arange(total, dtype=float)
    per_year = 365.25 if stratum.daily else 12.0
    if stratum.kind == "adventureworks":
        sim = simulate(character, seed, total)
        y = sim.y.to_numpy()
        dow = sim.y.index.day_of_week
        p_high = 1 - stats.norm.cdf(sim.cuts[dow] - sim.wander)
        p_moved = 1 - stats.norm.cdf(np.roll(sim.cuts, PROFILE_MOVE)[dow] - sim.wander)
        parts = {
            "sim": sim,
            "p_high": np.clip(p_high, 1e-6, 1 - 1e-6),
            "p_high_moved": np.clip(p_moved, 1e-6, 1 - 1e-6),
            "cut": two_means_split(y[: stratum.history]),
        }
        return Drawn(stratum, sim.y.index, y, noise_sd(y[: stratum.history]), parts)
    level = np.exp(_log_level(stratum, rng, t, per_year))
    dow = np.asarray(index.day_of_week)
    if stratum.kind == "intermittent":
        mean = rng.uniform(0.3, 3.0)
        w = _profile(rng, 0.5)
        rate = np.maximum(mean * level * (1 + w[dow]), 0.01)
        moved = np.maximum(mean * level * (1 + np.roll(w, PROFILE_MOVE)[dow]), 0.01)
        u = rng.uniform(size=total)
        y = stats.poisson.ppf(u, rate)
        return Drawn(stratum, index, y, math.sqrt(mean), {"rate": rate, "rate_moved": moved, "u": u})
    base = rng.uniform(50, 5000)
    season_position = dow if stratum.daily else np.arange(total) % 12
    yearly = np.zeros(total)
    if stratum.yearly:
        amplitude, phase = rng.uniform(0.1, 0.3), rng.uniform(0, 2 * math.pi)
        yearly = amplitude * np.sin(2 * math.pi * t / per_year + phase)
    weekly = _profile(rng, 0.3) if stratum.weekly else np.zeros(7)
    moved = np.roll(weekly, PROFILE_MOVE)
    w_now = weekly[season_position] if stratum.daily else 0.0
    w_moved = moved[season_position] if stratum.daily else 0.0

    def signal_with(w):
        if stratum.weekly == "mult" or stratum.yearly == "mult":
            return base * level * (1 + w) * (1 + yearly)
        return base * level + base * (w + yearly)

    cv = rng.uniform(0.05, 0.2)
    if stratum.noise == "fixed":
        sd = np.full(total, cv * base)
    elif stratum.noise == "level":
        sd = cv * base * level
    else:
        sd = cv * base * level**1.5
    e, phi = _ar_noise(rng, total)
    noise = sd * e
    signal = signal_with(w_now)
    y = np.maximum(signal + noise, 0.0)
    parts = {"signal": signal, "signal_moved": signal_with(w_moved), "noise": noise, "noise_sd": sd, "phi": phi}
    return Drawn(stratum, index, y, float(sd[stratum.history - 1]), parts)


# The AdventureWorks regimes (estimated from the sample) --------------------------------------------------


def noise_sd(values: np.ndarray, block: int = BLOCK) -> float:
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
