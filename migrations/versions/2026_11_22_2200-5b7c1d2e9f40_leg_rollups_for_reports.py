"""leg rollups for reports

Revision ID: 5b7c1d2e9f40
Revises: 8e03e2cc99ff
Create Date: 2026-11-22 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session

revision: str = "5b7c1d2e9f40"
down_revision: str | None = "8e03e2cc99ff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The table as this revision creates it: a later column must not reach this backfill.
_LEG_ROLLUP = sa.table(
    "leg_rollup",
    *(
        sa.column(name)
        for name in (
            "visit_date",
            "clinic_id",
            "hour",
            "service_id",
            "counter_id",
            "issued",
            "served",
            "no_show",
            "cancelled",
            "timed_services",
            "service_seconds",
            "targeted",
            "within_target",
            "waits",
        )
    ),
)


def _backfill() -> None:
    """Sum the legs already recorded (a deployment from before rollups), in this migration's
    transaction: writers wait until it commits (PostgreSQL locks the legs; SQLite has one
    writer)."""
    from app.queueing.rollups import rebuild_rollups

    session = Session(bind=op.get_bind())
    rebuild_rollups(session, into=_LEG_ROLLUP)
    session.flush()


def upgrade() -> None:
    op.create_table(
        "leg_rollup",
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("no_show", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("timed_services", sa.Integer(), nullable=False),
        sa.Column("service_seconds", sa.Float(), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("within_target", sa.Integer(), nullable=False),
        sa.Column("waits", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_leg_rollup_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_leg_rollup_service_id_service")
        ),
        sa.PrimaryKeyConstraint(
            "visit_date",
            "clinic_id",
            "hour",
            "service_id",
            "counter_id",
            name=op.f("pk_leg_rollup"),
        ),
        sqlite_with_rowid=False,
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("leg_rollup")
