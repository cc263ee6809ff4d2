"""the BPJS bridge: poli codes, credentials, booking links

Revision ID: b1c2d3e4f501
Revises: e5a1c0de0001
Create Date: 2026-12-07 04:00:00.000000
"""

from collections.abc import Sequence

revision: str = "b1c2d3e4f501"
down_revision: str | None = "e5a1c0de0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
