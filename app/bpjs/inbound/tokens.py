"""The token Mobile JKN gets from `GET auth` and sends back as x-token: a signed JWT naming
the clinic and the account. Nothing is stored per token: any server process checks it against
the clinic's bridge settings.

Signed (HS256) with a key derived from the app's secret key for this use alone, so a staff
token never passes here nor this one there. It carries a fingerprint of the account's
password hash: a new password (or a new username) ends the tokens already given. Its expiry is
checked against the app's clock.
"""

import hashlib
import hmac
from datetime import datetime, timedelta

import jwt

from app.bpjs.credentials import derive_key
from app.bpjs.inbound.messages import TOKEN_EXPIRED, TOKEN_INVALID, Refusal

TOKEN_MINUTES = 15
_LABEL = b"antrean bpjs inbound token v1"
_AUDIENCE = "bpjs-fktp"
_ALGORITHM = "HS256"


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def issue_token(
    *, clinic_id: int, username: str, password_hash: str, secret_key: str, now: datetime
) -> str:
    claims = {
        "aud": _AUDIENCE,
        "sub": username,
        "clinic": clinic_id,
        "pwd": _fingerprint(password_hash),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=TOKEN_MINUTES)).timestamp()),
    }
    return jwt.encode(claims, derive_key(secret_key, _LABEL), algorithm=_ALGORITHM)


def check_token(
    token: str,
    *,
    clinic_id: int,
    username: str,
    password_hash: str,
    secret_key: str,
    now: datetime,
) -> None:
    """Refuse a token that is not this clinic's and account's ("Token Tidak Valid") or whose
    time is up ("Token Expired")."""
    try:
        claims = jwt.decode(
            token,
            derive_key(secret_key, _LABEL),
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["exp", "sub", "clinic", "pwd"], "verify_exp": False},
        )
    except jwt.InvalidTokenError:
        raise Refusal(TOKEN_INVALID) from None
    same = (
        claims.get("clinic") == clinic_id
        and isinstance(claims.get("sub"), str)
        and hmac.compare_digest(claims["sub"], username)
        and hmac.compare_digest(str(claims.get("pwd")), _fingerprint(password_hash))
    )
    if not same:
        raise Refusal(TOKEN_INVALID)
    expiry = claims["exp"]
    if not isinstance(expiry, int) or now.timestamp() >= expiry:
        raise Refusal(TOKEN_EXPIRED)
