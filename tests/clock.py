"""A clock the tests move by hand."""

from datetime import UTC, datetime, timedelta

# Monday 23 November 2026, 08:00 in Balikpapan (WITA, UTC+8).
DEFAULT_START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment
