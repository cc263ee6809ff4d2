"""waiting counts per service and day

Revision ID: 3f6a2b9d8c11
Revises: 5b7c1d2e9f40
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6a2b9d8c11"
down_revision: str | None = "5b7c1d2e9f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("daily_sequence") as batch:
        batch.add_column(sa.Column("waiting", sa.Integer(), nullable=False, server_default="0"))
    # Count what waits now, including transfer-only services, which had no row before.
    op.execute(
        """
        INSERT INTO daily_sequence (service_id, visit_date, last_number, waiting)
        SELECT DISTINCT service_id, visit_date, 0, 0 FROM ticket
        WHERE status = 'waiting' AND NOT EXISTS (
            SELECT 1 FROM daily_sequence d
            WHERE d.service_id = ticket.service_id AND d.visit_date = ticket.visit_date
        )
        """
    )
    op.execute(
        """
        UPDATE daily_sequence SET waiting = (
            SELECT count(*) FROM ticket
            WHERE ticket.service_id = daily_sequence.service_id
              AND ticket.visit_date = daily_sequence.visit_date
              AND ticket.status = 'waiting'
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("daily_sequence") as batch:
        batch.drop_column("waiting")
