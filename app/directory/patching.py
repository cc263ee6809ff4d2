"""PATCH semantics: only the fields sent change; null is refused where a value is required."""

from sqlmodel import SQLModel

from app.errors import InvalidInput


def apply_patch(
    row: SQLModel,
    patch: SQLModel,
    *,
    nullable: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
) -> dict[str, object]:
    changes = patch.model_dump(exclude_unset=True, exclude=set(exclude))
    refused = sorted(
        name for name, value in changes.items() if value is None and name not in nullable
    )
    if refused:
        raise InvalidInput(f"These fields cannot be null: {', '.join(refused)}")
    for name, value in changes.items():
        setattr(row, name, value)
    return changes
