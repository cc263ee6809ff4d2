"""The BPJS bridge's rows: a clinic's settings and credentials, the booking links between a
ticket and a BPJS card, and the cards registered as new patients through Mobile JKN.

A card number (nomorkartu) and a NIK live only in `bpjs_booking`: never on a ticket, an
event, the display feed or a public answer. docs/bpjs.md says what each kept field is for.
"""

from datetime import date, datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import BigId, UTCDateTime, utcnow
from app.models.types import Password, Username


class BpjsSettings(SQLModel, table=True):
    """One clinic's bridge: on or off, the BPJS address, the consumer credentials it signs its
    calls with (encrypted: they are needed in clear to sign), and the account BPJS signs in to
    the clinic's endpoint with (the password hashed)."""

    __tablename__ = "bpjs_settings"

    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    enabled: bool = False
    base_url: str | None = Field(default=None, max_length=300)
    # Fernet tokens (app/bpjs/credentials.py); None: not set.
    cons_id_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    cons_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    user_key_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    # What BPJS sends as x-username / x-password to GET auth.
    username: str | None = Field(default=None, max_length=64)
    password_hash: str | None = Field(default=None, max_length=255)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class BpjsBooking(SQLModel, table=True):
    """A ticket that BPJS knows about, with the card it is for: a booking from Mobile JKN, or a
    walk-in BPJS patient whose ticket the clinic reports to BPJS."""

    __tablename__ = "bpjs_booking"
    __table_args__ = (
        UniqueConstraint("ticket_id"),
        # A card's booking for a poli and a day: the duplicate check, sisapeserta and batal.
        Index("ix_bpjs_booking_card_day", "clinic_id", "nomorkartu", "kodepoli", "tanggalperiksa"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    ticket_id: int = Field(sa_column=Column(BigId, ForeignKey("ticket.id"), nullable=False))
    clinic_id: int = Field(foreign_key="clinic.id")
    nomorkartu: str = Field(max_length=13)
    kodepoli: str = Field(max_length=16)
    tanggalperiksa: date
    # What BPJS's "tambah antrean" call needs for a walk-in reported from the counter (nothing
    # fills them yet); a Mobile JKN booking leaves them empty (BPJS has them, no call needs them).
    nik: str | None = Field(default=None, max_length=16)
    nohp: str | None = Field(default=None, max_length=20)
    norm: str | None = Field(default=None, max_length=32)
    kodedokter: str | None = Field(default=None, max_length=16)
    jampraktek: str | None = Field(default=None, max_length=16)
    # True for a booking that came from Mobile JKN (BPJS made it: nothing to add there).
    from_mobile_jkn: bool = False
    # BPJS asked for the cancellation (PUT antrean/batal): the outbox does not send it back.
    cancelled_by_bpjs: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class BpjsNewPatient(SQLModel, table=True):
    """A card that Mobile JKN registered as a new patient (POST peserta): only the card and
    when, so that its next booking is answered as a known patient's. The identity sent with
    it is not kept: the clinic registers the patient from the card at the counter."""

    __tablename__ = "bpjs_new_patient"

    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    nomorkartu: str = Field(max_length=13, primary_key=True)
    registered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


# --- the admin API's models ----------------------------------------------------------------

# A consumer credential as BPJS issues it: printable, no spaces.
Credential = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[!-~]+$")]

# An http(s) address with a host name or IPv4 address, an optional port and path: the rule is
# all in the pattern, so the API's schema states it (a looser one let `https://[` through).
BaseUrl = Annotated[
    str,
    StringConstraints(max_length=300, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$"),
]


class BpjsSettingsUpdate(SQLModel):
    """Only the fields sent change: a credential left out keeps its stored value (the API
    never shows one back); null clears it."""

    enabled: bool = Field(default=None)
    base_url: BaseUrl | None = None
    cons_id: Credential | None = None
    cons_secret: Credential | None = None
    user_key: Credential | None = None
    username: Username | None = None
    password: Password = Field(default=None)


class BpjsSettingsPublic(SQLModel):
    """The bridge's settings without a secret: only whether each is set."""

    clinic_id: int
    enabled: bool
    base_url: str | None
    username: str | None
    cons_id_set: bool
    cons_secret_set: bool
    user_key_set: bool
    password_set: bool
    # Where BPJS calls the clinic (register `https://<host>` + this with BPJS).
    endpoint_path: str
