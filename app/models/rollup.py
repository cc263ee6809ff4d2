"""Leg rollups: the legs' report figures summed per clinic, service, counter, local day and hour.

The reports read these instead of every leg, so a month over a city is a few tens of thousands
of rows, not half a million legs. Each row keeps exact counts and sums, and every wait as its
exact value (`waits`: packed float64 seconds, in no particular order), so medians and p90 stay
exact over any grouping: the waits of a group are the waits of its rows, never a summary of
summaries. Rows are kept in step with the legs in the event's own transaction
(app/queueing/rollups.py); `rebuild_rollups` derives them from the legs alone, and a test holds
the two equal.
"""

from datetime import date

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Column, Float, Integer, LargeBinary
from sqlmodel import Field, SQLModel

# A leg not yet called belongs to no counter; the key needs a value (NULLs are never equal in a
# unique key on SQLite), so it is 0, which no counter has.
NO_COUNTER = 0

_WAIT = np.dtype("<f8")


def pack_waits(waits: list[float]) -> bytes:
    return np.asarray(waits, dtype=_WAIT).tobytes()


def unpack_waits(packed: bytes | None) -> NDArray[np.float64]:
    return np.frombuffer(packed or b"", dtype=_WAIT).astype(np.float64, copy=False)


class LegRollup(SQLModel, table=True):
    __tablename__ = "leg_rollup"
    # SQLite keeps the rows in key order, so a period is one contiguous range.
    __table_args__ = {"sqlite_with_rowid": False}

    # The period comes first: every report covers one, for one clinic or for all of them.
    visit_date: date = Field(primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    # The local hour (clinic's timezone) the legs began in.
    hour: int = Field(primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)
    # The counter of each leg's latest call; NO_COUNTER for legs never called.
    counter_id: int = Field(primary_key=True)
    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    # Served legs with a service time, and the sum of those times in seconds.
    timed_services: int = 0
    service_seconds: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    # Called legs with a target, and those of them called within it.
    targeted: int = 0
    within_target: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    waits: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
