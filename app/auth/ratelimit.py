"""Rate limit for anonymous (phone) ticket requests, per client address, with `limits`."""

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app.errors import RateLimited


class ClientRateLimit:
    """Counts in this process's memory; a multi-process deployment limits per process."""

    def __init__(self, rule: str) -> None:
        self._limits = parse_many(rule)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, client: str) -> None:
        # Check every window before counting in any, so a refused request is not counted.
        if not all(self._limiter.test(limit, client) for limit in self._limits):
            raise RateLimited()
        for limit in self._limits:
            self._limiter.hit(limit, client)
