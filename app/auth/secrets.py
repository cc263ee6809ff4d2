"""Long random secrets (device keys, ticket tokens): kept only as a SHA-256 digest.

These secrets carry 256 bits of randomness, so a fast digest is as safe as a slow password
hash and costs microseconds per request; the comparison is constant-time all the same.
"""

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret).encode(), stored_digest.encode())
