"""A clinic's bridge settings as kept: the consumer credentials encrypted, BPJS's password
hashed.

The consumer credentials (cons id, cons secret, user key) are needed in clear to sign every
call to BPJS, so they are encrypted, not hashed: Fernet (AES-128-CBC with HMAC-SHA256) under
a key derived by HKDF-SHA256 from the app's secret key (ANTREAN_SECRET_KEY, or the one kept in
the database when that is unset), with a label of its own so that no other use of the secret
key shares it. The password BPJS signs in to the clinic with is only ever compared: Argon2id,
as staff passwords.
"""

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session

from app.auth.passwords import hash_password
from app.models.bpjs import BpjsSettings, BpjsSettingsPublic, BpjsSettingsUpdate

_LABEL = b"antrean bpjs credentials v1"
_CREDENTIALS = ("cons_id", "cons_secret", "user_key")


class CredentialsUnreadable(Exception):
    """A stored credential does not open with this key: the secret key changed since it was
    saved. The clinic admin enters the credentials again."""


@dataclass(frozen=True, slots=True)
class ClearCredentials:
    """What signing a call to BPJS needs, in clear (kept in memory only)."""

    base_url: str
    cons_id: str
    cons_secret: str
    user_key: str


def derive_key(secret_key: str, label: bytes) -> bytes:
    """32 bytes for one purpose, derived from the app's secret key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label)
    return hkdf.derive(secret_key.encode())


def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret_key, _LABEL)))


def _open(fernet: Fernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable() from None


def read_settings(session: Session, clinic_id: int) -> BpjsSettings | None:
    return session.get(BpjsSettings, clinic_id)


def public_settings(
    settings: BpjsSettings | None, clinic_id: int, clinic_code: str
) -> BpjsSettingsPublic:
    """The settings as the admin API shows them: no secret, only whether each is set."""
    kept = settings or BpjsSettings(clinic_id=clinic_id)
    return BpjsSettingsPublic(
        clinic_id=clinic_id,
        enabled=kept.enabled,
        base_url=kept.base_url,
        username=kept.username,
        cons_id_set=kept.cons_id_encrypted is not None,
        cons_secret_set=kept.cons_secret_encrypted is not None,
        user_key_set=kept.user_key_encrypted is not None,
        password_set=kept.password_hash is not None,
        endpoint_path=f"/bpjs/fktp/{clinic_code}/",
    )


def hash_update_password(update: BpjsSettingsUpdate) -> str | None:
    """The new password's hash, made before the write (Argon2 takes tens of milliseconds: not
    inside the writer's transaction)."""
    return None if update.password is None else hash_password(update.password)


def save_settings(
    session: Session,
    *,
    clinic_id: int,
    update: BpjsSettingsUpdate,
    password_hash: str | None,
    secret_key: str,
    now: datetime,
) -> BpjsSettings:
    """Apply the fields sent (a credential left out keeps its value; null clears it)."""
    settings = session.get(BpjsSettings, clinic_id) or BpjsSettings(clinic_id=clinic_id)
    sent = update.model_fields_set
    fernet = _fernet(secret_key)
    if "enabled" in sent:
        settings.enabled = bool(update.enabled)
    if "base_url" in sent:
        settings.base_url = update.base_url
    if "username" in sent:
        settings.username = update.username
    for name in _CREDENTIALS:
        if name in sent:
            value: str | None = getattr(update, name)
            token = None if value is None else fernet.encrypt(value.encode()).decode()
            setattr(settings, f"{name}_encrypted", token)
    if password_hash is not None:
        settings.password_hash = password_hash
    settings.updated_at = now
    session.add(settings)
    session.flush()
    return settings


def clear_credentials(settings: BpjsSettings, secret_key: str) -> ClearCredentials | None:
    """The credentials in clear to sign calls with; None while any of them or the base URL is
    not set. Raises CredentialsUnreadable when the secret key changed since they were saved."""
    tokens = (
        settings.cons_id_encrypted,
        settings.cons_secret_encrypted,
        settings.user_key_encrypted,
    )
    if settings.base_url is None or any(token is None for token in tokens):
        return None
    fernet = _fernet(secret_key)
    cons_id, cons_secret, user_key = (_open(fernet, token or "") for token in tokens)
    return ClearCredentials(settings.base_url, cons_id, cons_secret, user_key)
