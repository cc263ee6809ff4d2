"""a moving mean of service times per service and day

Revision ID: 9c4e1f7a2b60
Revises: 3f6a2b9d8c11
Create Date: 2026-12-07 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e1f7a2b60"
down_revision: str | None = "3f6a2b9d8c11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("daily_sequence") as batch:
        batch.add_column(sa.Column("mean_service_seconds", sa.Float(), nullable=True))
    # Start each day's mean at the plain mean of the legs already served that day.
    op.execute(
        """
        UPDATE daily_sequence SET mean_service_seconds = (
            SELECT avg(service_seconds) FROM ticket_leg
            WHERE ticket_leg.service_id = daily_sequence.service_id
              AND ticket_leg.visit_date = daily_sequence.visit_date
              AND ticket_leg.service_seconds IS NOT NULL
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("daily_sequence") as batch:
        batch.drop_column("mean_service_seconds")
