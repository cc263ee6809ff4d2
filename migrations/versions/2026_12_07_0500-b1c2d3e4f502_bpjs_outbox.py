"""the BPJS outbox

Revision ID: b1c2d3e4f502
Revises: b1c2d3e4f501
Create Date: 2026-12-07 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1c2d3e4f502"
down_revision: str | None = "b1c2d3e4f501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The types as they were when this revision was written (not imported from the models, which
# move on).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bpjs_outbox",
        sa.Column("id", BigId, nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("ticket_code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_bpjs_outbox_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_bpjs_outbox_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bpjs_outbox")),
    )
    op.create_index("ix_bpjs_outbox_due", "bpjs_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_bpjs_outbox_ticket", "bpjs_outbox", ["ticket_id", "id"])
    op.create_index("ix_bpjs_outbox_clinic", "bpjs_outbox", ["clinic_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_bpjs_outbox_clinic", table_name="bpjs_outbox")
    op.drop_index("ix_bpjs_outbox_ticket", table_name="bpjs_outbox")
    op.drop_index("ix_bpjs_outbox_due", table_name="bpjs_outbox")
    op.drop_table("bpjs_outbox")
