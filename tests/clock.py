"""A clock the tests move by hand."""

from datetime import UTC, datetime, timedelta

# Monday 23 November 2026, 08:00 in Balikpapan (WITA, UTC+8).
DEFAULT_START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self.now = start
        self._script: list[datetime] = []

    def __call__(self) -> datetime:
        if self._script:
            self.now = self._script.pop(0)
        return self.now

    def reads(self, *moments: datetime) -> None:
        """The next readings, one per call, e.g. to pass midnight in the middle of a request."""
        self._script.extend(moments)

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment
