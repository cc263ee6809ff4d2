"""the wait estimator's state

Revision ID: e5a1c0de0001
Revises: 4d2a9e6b1c73
Create Date: 2026-12-07 03:00:00.000000

The estimator's pace per service and day, on the day row beside the numbers: the moving mean
of the intervals between calls while someone waited (and how many), the last call when someone
still waited after it, the first and the last call; the moving mean of the intervals between
tickets joining, the moving share of priority tickets among them, the last join (moments in
epoch seconds). Days already begun start without a pace: their estimates lean on the usual
pace until the next calls.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5a1c0de0001"
down_revision: str | None = "4d2a9e6b1c73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("daily_sequence") as batch:
        batch.add_column(sa.Column("gap_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("gaps", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("busy_since", sa.Float(), nullable=True))
        batch.add_column(sa.Column("last_call_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("first_call_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("join_gap_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("priority_share", sa.Float(), nullable=True))
        batch.add_column(sa.Column("last_join_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daily_sequence") as batch:
        batch.drop_column("last_join_at")
        batch.drop_column("priority_share")
        batch.drop_column("join_gap_seconds")
        batch.drop_column("first_call_at")
        batch.drop_column("last_call_at")
        batch.drop_column("busy_since")
        batch.drop_column("gaps")
        batch.drop_column("gap_seconds")
