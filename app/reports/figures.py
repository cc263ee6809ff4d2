"""The figures of a report row, and exact percentiles (no averages of averages)."""

import math

import numpy as np
from numpy.typing import NDArray

PERCENTILES = (0.5, 0.9)


def percentiles(values: NDArray[np.float64], fractions: tuple[float, ...]) -> list[float | None]:
    """Linear interpolation between closest ranks (numpy's default, PostgreSQL's
    percentile_cont), over every value. Only the ranks needed are put in place (a partial
    sort), and the interpolation is written out, so it is the same arithmetic on any data."""
    if len(values) == 0:
        return [None for _ in fractions]
    last = len(values) - 1
    ranks = {}
    for fraction in fractions:
        below = math.floor(last * fraction)
        ranks[fraction] = (below, min(below + 1, last))
    needed = sorted({rank for pair in ranks.values() for rank in pair})
    placed = np.partition(values, needed)
    found: list[float | None] = []
    for fraction in fractions:
        below, above = ranks[fraction]
        low, high = float(placed[below]), float(placed[above])
        found.append(low + (high - low) * (last * fraction - below))
    return found


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes to two decimals (the reports' unit)."""
    return None if seconds is None else round(seconds / 60, 2)


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 2)
