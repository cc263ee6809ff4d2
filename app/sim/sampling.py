"""Random draws and clock arithmetic shared by the simulator's parts."""

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo


def day_rng(seed: int, clinic_code: str, day: date, stream: str) -> random.Random:
    """One stream per seed, clinic, day and purpose: a clinic-day never depends on the other
    clinics or days simulated with it (string seeds are hashed the same in every process)."""
    return random.Random(f"{seed}/{clinic_code}/{day.isoformat()}/{stream}")


def lognormal(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and standard deviation."""
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


T = TypeVar("T")


class Picker(Generic[T]):
    """Draws one of `choices` by weight (weights need not add up to 1)."""

    __slots__ = ("cumulative", "items")

    def __init__(self, choices: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in choices]
        self.cumulative = list(itertools.accumulate(weight for _, weight in choices))

    def __call__(self, rng: random.Random) -> T:
        index = bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(index, len(self.items) - 1)]


def local_ts(day: date, minute: float, zone: ZoneInfo) -> float:
    """Epoch seconds of the local wall-clock time `minute` minutes past midnight of `day`
    (aware datetime arithmetic is wall-clock arithmetic)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return (midnight + timedelta(minutes=minute)).timestamp()
