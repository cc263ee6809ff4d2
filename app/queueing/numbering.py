"""Ticket numbers: 1, 2, 3, … per issuing service and local day, without gaps or repeats.

The next number comes from an upsert on `daily_sequence` that increments and returns in one
statement. It row-locks the sequence until commit on PostgreSQL (SQLite has one writer anyway),
and rolls back with the ticket if issuing fails, so numbers are never skipped nor given twice.
"""

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models import DailySequence


def next_number(session: Session, *, service_id: int, visit_date: date) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = DailySequence.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(service_id=service_id, visit_date=visit_date, last_number=1)
        .on_conflict_do_update(
            index_elements=["service_id", "visit_date"],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    number: int = session.execute(statement).scalar_one()
    return number


def ticket_code(prefix: str, number: int) -> str:
    """`A-012`: at least three digits, more when a day runs past 999."""
    return f"{prefix}-{number:03d}"
