"""Rate limits with `limits` (moving windows): anonymous (phone) tickets per client address,
and failed staff logins.

Counted in Redis when ANTREAN_REDIS_URL is set, so every server process shares the count;
in this process's memory otherwise.
"""

import ipaddress
import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import RateLimited


@lru_cache(maxsize=4096)
def _network(address: str) -> str:
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def address_key(address: str) -> str:
    """What a client address is counted under: an IPv4 address itself, an IPv6 address its
    /64 (one subscriber's whole prefix: otherwise each of its 2^64 addresses would count
    apart)."""
    return _network(address) if ":" in address else address


def make_limiter(redis_url: str | None, namespace: str) -> MovingWindowRateLimiter:
    """A moving-window limiter counting in Redis (shared by every process) or in memory."""
    storage = (
        storage_from_string(redis_url, key_prefix=f"{namespace}:ratelimit")
        if redis_url
        else MemoryStorage()
    )
    assert isinstance(storage, Storage)
    return MovingWindowRateLimiter(storage)


def _retry_after(limiter: MovingWindowRateLimiter, limit: RateLimitItem, key: str) -> int:
    """Seconds until the oldest hit of a full window leaves it (at least 1)."""
    reset = limiter.get_window_stats(limit, key).reset_time
    return max(1, math.ceil(reset - time.time()))


class ClientRateLimit:
    def __init__(self, rule: str, redis_url: str | None = None, namespace: str = "antrean") -> None:
        self._limits = parse_many(rule)
        self._limiter = make_limiter(redis_url, namespace)

    def hit(self, client: str) -> None:
        client = address_key(client)
        # Check every window before counting in any, so a refused request is not counted.
        for limit in self._limits:
            if not self._limiter.test(limit, client):
                raise RateLimited(_retry_after(self._limiter, limit, client))
        for limit in self._limits:
            self._limiter.hit(limit, client)


class LoginRateLimit:
    """Failed logins, counted per (account, client address), per address and per account.

    `check` comes before the password is verified (an exceeded limit costs no Argon2 hash);
    only `failed` counts; `succeeded` clears that account's count for that address. The
    per-account limit is the loosest: it stops guessing spread over many addresses, while
    one address alone can never reach it (its own, tighter limits stop it first), so an
    attacker at one address cannot lock the owner out from another.

    Test-then-count is not atomic: requests in flight together may each pass the check, so
    a burst can overshoot a limit by as many requests as the servers verify at once.
    """

    def __init__(
        self,
        per_account_address: str,
        per_address: str,
        per_account: str,
        redis_url: str | None = None,
        namespace: str = "antrean",
    ) -> None:
        self._pair = parse_many(per_account_address)
        self._address = parse_many(per_address)
        self._account = parse_many(per_account)
        self._limiter = make_limiter(redis_url, namespace)

    def _windows(self, account: str | None, address: str) -> list[tuple[RateLimitItem, str]]:
        address = address_key(address)
        windows = [(limit, f"login-address:{address}") for limit in self._address]
        if account is not None:  # None: a username that names no account can be
            windows[0:0] = [(limit, f"login-pair:{account}:{address}") for limit in self._pair]
            windows += [(limit, f"login-account:{account}") for limit in self._account]
        return windows

    def check(self, account: str | None, address: str) -> None:
        """Raises RateLimited (with the seconds to wait) when a limit is used up."""
        for limit, key in self._windows(account, address):
            if not self._limiter.test(limit, key):
                raise RateLimited(_retry_after(self._limiter, limit, key))

    def failed(self, account: str | None, address: str) -> None:
        for limit, key in self._windows(account, address):
            self._limiter.hit(limit, key)

    def succeeded(self, account: str, address: str) -> None:
        address = address_key(address)
        for limit in self._pair:
            self._limiter.clear(limit, f"login-pair:{account}:{address}")
