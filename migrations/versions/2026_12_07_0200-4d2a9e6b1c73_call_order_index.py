"""the queue index in call order, ties by id

Revision ID: 4d2a9e6b1c73
Revises: 9c4e1f7a2b60
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4d2a9e6b1c73"
down_revision: str | None = "9c4e1f7a2b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # With the id in the index, the first waiting ticket is read in call order without a sort
    # of every waiting ticket (PostgreSQL sorted the whole queue: 10 ms at 3,000 waiting).
    op.drop_index("ix_ticket_queue", table_name="ticket")
    op.create_index(
        "ix_ticket_queue", "ticket", ["service_id", "visit_date", "status", "queue_key", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_queue", table_name="ticket")
    op.create_index(
        "ix_ticket_queue", "ticket", ["service_id", "visit_date", "status", "queue_key"]
    )
