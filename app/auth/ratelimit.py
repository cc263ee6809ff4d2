"""Rate limit for anonymous (phone) ticket requests, per client address, with `limits`.

Counted in Redis when ANTREAN_REDIS_URL is set, so every server process shares the count;
in this process's memory otherwise.
"""

from limits import parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import RateLimited


class ClientRateLimit:
    def __init__(self, rule: str, redis_url: str | None = None, namespace: str = "antrean") -> None:
        self._limits = parse_many(rule)
        storage = (
            storage_from_string(redis_url, key_prefix=f"{namespace}:ratelimit")
            if redis_url
            else MemoryStorage()
        )
        assert isinstance(storage, Storage)
        self._limiter = MovingWindowRateLimiter(storage)

    def hit(self, client: str) -> None:
        # Check every window before counting in any, so a refused request is not counted.
        if not all(self._limiter.test(limit, client) for limit in self._limits):
            raise RateLimited()
        for limit in self._limits:
            self._limiter.hit(limit, client)
