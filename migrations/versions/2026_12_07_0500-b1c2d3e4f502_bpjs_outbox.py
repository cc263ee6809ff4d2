"""the BPJS outbox

Revision ID: b1c2d3e4f502
Revises: b1c2d3e4f501
Create Date: 2026-12-07 05:00:00.000000
"""

from collections.abc import Sequence

revision: str = "b1c2d3e4f502"
down_revision: str | None = "b1c2d3e4f501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
