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
    only failures count: `failed` after a wrong password, while `succeeded` clears that
    account's count for that address. The per-account limit is the loosest: it stops
    guessing spread over many addresses, while one address alone can never reach it (its
    own, tighter limits stop it first), so an attacker at one address cannot lock the owner
    out from another.

    The (account, address) window is taken atomically by `check` itself (and given back by
    `succeeded`): however many guesses one address sends at once, no more than its limit
    reach the password. The address and account windows are tested by `check` and counted
    by `failed`: requests in flight together may each pass the test, so a burst can
    overshoot those by as many requests as the servers verify at once.
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

    def _counted_after(self, account: str | None, address: str) -> list[tuple[RateLimitItem, str]]:
        """The windows a failure is counted in after the fact (not the pair's)."""
        windows = [(limit, f"login-address:{address}") for limit in self._address]
        if account is not None:  # None: a username that cannot name an account
            windows += [(limit, f"login-account:{account}") for limit in self._account]
        return windows

    def _refuse(self, limit: RateLimitItem, key: str) -> RateLimited:
        return RateLimited(_retry_after(self._limiter, limit, key))

    def check(self, account: str | None, address: str) -> None:
        """Raises RateLimited (with the seconds to wait) when a limit is used up, counting
        nothing; otherwise holds this attempt's place in the (account, address) window."""
        address = address_key(address)
        pair = f"login-pair:{account}:{address}"
        windows = self._counted_after(account, address)
        if account is not None:
            windows += [(limit, pair) for limit in self._pair]
        for limit, key in windows:
            if not self._limiter.test(limit, key):
                raise self._refuse(limit, key)
        if account is not None:
            for limit in self._pair:
                if not self._limiter.hit(limit, pair):  # taken meanwhile by another attempt
                    raise self._refuse(limit, pair)

    def failed(self, account: str | None, address: str) -> None:
        for limit, key in self._counted_after(account, address_key(address)):
            self._limiter.hit(limit, key)

    def succeeded(self, account: str, address: str) -> None:
        address = address_key(address)
        for limit in self._pair:
            self._limiter.clear(limit, f"login-pair:{account}:{address}")
