"""ticket legs for reports

Revision ID: 8e03e2cc99ff
Revises: a01544f05e3d
Create Date: 2026-11-22 19:27:37.851160
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session, col, select

revision: str = "8e03e2cc99ff"
down_revision: str | None = "a01544f05e3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    """Derive the legs of the tickets already in the log (a deployment from before reports)."""
    from app.models import Clinic, Service, Ticket, TicketEvent
    from app.queueing.legs import derive_legs

    session = Session(bind=op.get_bind())
    if session.exec(select(TicketEvent.id).limit(1)).first() is None:
        return
    zones = dict(session.exec(select(Clinic.id, Clinic.timezone)).all())
    targets = dict(session.exec(select(Service.id, Service.target_wait_minutes)).all())
    events = session.exec(
        select(TicketEvent, col(Ticket.visit_date))
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .order_by(col(TicketEvent.id))
    )
    session.add_all(
        derive_legs(
            ((event, day) for event, day in events),
            timezone_of=zones.__getitem__,
            target_of=targets.get,
        )
    )
    session.flush()


def upgrade() -> None:
    op.create_table(
        "ticket_leg",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("entered_hour", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("recalls", sa.Integer(), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("service_seconds", sa.Float(), nullable=True),
        sa.Column("target_wait_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_ticket_leg_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counter.id"], name=op.f("fk_ticket_leg_counter_id_counter")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_ticket_leg_service_id_service")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_leg_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_leg")),
        sa.UniqueConstraint("ticket_id", "leg", name=op.f("uq_ticket_leg_ticket_id_leg")),
    )
    with op.batch_alter_table("ticket_leg", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_leg_clinic_date", ["clinic_id", "visit_date"])
        batch_op.create_index("ix_ticket_leg_date", ["visit_date"])
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("ticket_leg", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_leg_date")
        batch_op.drop_index("ix_ticket_leg_clinic_date")
    op.drop_table("ticket_leg")
