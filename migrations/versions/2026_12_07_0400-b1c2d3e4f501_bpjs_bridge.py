"""the BPJS bridge: poli codes, credentials, booking links

Revision ID: b1c2d3e4f501
Revises: e5a1c0de0001
Create Date: 2026-12-07 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1c2d3e4f501"
down_revision: str | None = "e5a1c0de0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTCDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Added in place (no batch): SQLite would rebuild `service`, which tickets refer to.
    op.add_column("service", sa.Column("bpjs_poli_code", sa.String(length=16), nullable=True))
    op.create_index(
        "uq_service_clinic_id_bpjs_poli_code",
        "service",
        ["clinic_id", "bpjs_poli_code"],
        unique=True,
    )
    op.create_table(
        "bpjs_settings",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=True),
        sa.Column("cons_id_encrypted", sa.Text(), nullable=True),
        sa.Column("cons_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("user_key_encrypted", sa.Text(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name="fk_bpjs_settings_clinic_id_clinic"
        ),
        sa.PrimaryKeyConstraint("clinic_id", name="pk_bpjs_settings"),
    )
    op.create_table(
        "bpjs_booking",
        sa.Column("id", BigId, nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("nomorkartu", sa.String(length=13), nullable=False),
        sa.Column("kodepoli", sa.String(length=16), nullable=False),
        sa.Column("tanggalperiksa", sa.Date(), nullable=False),
        sa.Column("nik", sa.String(length=16), nullable=True),
        sa.Column("nohp", sa.String(length=20), nullable=True),
        sa.Column("norm", sa.String(length=32), nullable=True),
        sa.Column("kodedokter", sa.String(length=16), nullable=True),
        sa.Column("jampraktek", sa.String(length=16), nullable=True),
        sa.Column("from_mobile_jkn", sa.Boolean(), nullable=False),
        sa.Column("cancelled_by_bpjs", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name="fk_bpjs_booking_clinic_id_clinic"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_bpjs_booking_ticket_id_ticket"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bpjs_booking"),
        sa.UniqueConstraint("ticket_id", name="uq_bpjs_booking_ticket_id"),
    )
    op.create_index(
        "ix_bpjs_booking_card_day",
        "bpjs_booking",
        ["clinic_id", "nomorkartu", "kodepoli", "tanggalperiksa"],
    )
    op.create_table(
        "bpjs_new_patient",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("nomorkartu", sa.String(length=13), nullable=False),
        sa.Column("registered_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name="fk_bpjs_new_patient_clinic_id_clinic"
        ),
        sa.PrimaryKeyConstraint("clinic_id", "nomorkartu", name="pk_bpjs_new_patient"),
    )


def downgrade() -> None:
    op.drop_table("bpjs_new_patient")
    op.drop_index("ix_bpjs_booking_card_day", table_name="bpjs_booking")
    op.drop_table("bpjs_booking")
    op.drop_table("bpjs_settings")
    op.drop_index("uq_service_clinic_id_bpjs_poli_code", table_name="service")
    op.drop_column("service", "bpjs_poli_code")
