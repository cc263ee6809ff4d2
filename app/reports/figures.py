"""The figures of a report row, and exact percentiles (no averages of averages)."""

import math
from collections.abc import Sequence

PERCENTILES = (0.5, 0.9)


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks: numpy's default, PostgreSQL's
    percentile_cont. `ordered` must be sorted."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes to two decimals (the reports' unit)."""
    return None if seconds is None else round(seconds / 60, 2)


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 2)
