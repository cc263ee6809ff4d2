"""Counter (loket / ruang periksa) and the services it calls from."""

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import Id, Name


class CounterService(SQLModel, table=True):
    __tablename__ = "counter_service"

    counter_id: int = Field(foreign_key="counter.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True)


class CounterBase(SQLModel):
    name: Name = Field(max_length=120)


class Counter(CounterBase, table=True):
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)


class CounterCreate(CounterBase):
    service_ids: list[Id] = Field(min_length=1, max_length=50)


class CounterUpdate(SQLModel):
    """Only the fields sent change; none can be null."""

    name: Name = Field(default=None)
    service_ids: list[Id] = Field(default=None, min_length=1, max_length=50)


class CounterPublic(CounterBase):
    id: int
    clinic_id: int
    service_ids: list[int]
