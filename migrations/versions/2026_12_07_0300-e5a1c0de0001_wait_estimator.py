"""the wait estimator's state

Revision ID: e5a1c0de0001
Revises: 4d2a9e6b1c73
Create Date: 2026-12-07 03:00:00.000000
"""

from collections.abc import Sequence

revision: str = "e5a1c0de0001"
down_revision: str | None = "4d2a9e6b1c73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
