"""A scenario file: the clinics to simulate, their hours, arrivals, journeys and services.

Loaded with `load_scenario(path)`; a bad file raises `ScenarioError` whose message names each
wrong field (`clinics[0].journeys[1].path: unknown service 'Poli Mata'`). Every field and its
default is described in docs/simulator.md.
"""

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.models.types import Name, Prefix

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Share = Annotated[float, Field(ge=0, le=1)]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ScenarioError(ValueError):
    """A scenario file that cannot be simulated; the message names the field."""


def minute_of_day(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"{value!r} is not a local time HH:MM (00:00 to 23:59)")
    return value


LocalTime = Annotated[str, AfterValidator(_hhmm)]


class _Model(BaseModel):
    # A misspelt optional field would otherwise be dropped without a word.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shares(_Model):
    priority: Share
    no_show: Share
    phone: Share
    staff: Share = 0.05
    requeue: Share = 0.35
    cancel: Share = 0.1
    start: Share = 0.8
    recall: Share = 0.05


class PhoneLead(_Model):
    """How long before arriving a phone ticket is taken (minutes, uniform)."""

    min: float = Field(default=10, ge=0)
    max: float = Field(default=90, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class ServiceMinutes(_Model):
    mean: float = Field(gt=0, le=600)
    sd: float = Field(ge=0, le=600)


class CounterHours(_Model):
    name: Name | None = None
    open: LocalTime
    close: LocalTime
    pauses: list[tuple[LocalTime, LocalTime]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _hours(self) -> Self:
        opening, closing = minute_of_day(self.open), minute_of_day(self.close)
        if closing <= opening:
            raise ValueError(f"close {self.close} is not after open {self.open}")
        last = opening
        for start, end in self.pauses:
            if not last <= minute_of_day(start) < minute_of_day(end) <= closing:
                raise ValueError(
                    f"pause {start}-{end} must lie between open and close, in order, "
                    "without overlapping another"
                )
            last = minute_of_day(end)
        return self


class ServicePlan(_Model):
    name: Name
    prefix: Prefix
    service_minutes: ServiceMinutes
    counters: list[CounterHours] = Field(min_length=1)
    target_wait_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    priority_lead_minutes: int = Field(default=60, ge=0, le=24 * 60)


class Journey(_Model):
    share: float = Field(gt=0, le=1)
    path: list[Name] = Field(min_length=1)


class ClinicPlan(_Model):
    code: Name
    name: Name | None = None
    timezone: str
    arrivals_per_hour: dict[str, float]
    shares: Shares
    journeys: list[Journey] = Field(min_length=1)
    services: list[ServicePlan] = Field(min_length=1)
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:6]))
    weekday_load: dict[str, float] = Field(default_factory=dict)
    phone_lead_minutes: PhoneLead = Field(default_factory=PhoneLead)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("arrivals_per_hour")
    @classmethod
    def _hours(cls, rates: dict[str, float]) -> dict[str, float]:
        for hour, rate in rates.items():
            if not re.fullmatch(r"[01]?\d|2[0-3]", hour):
                raise ValueError(f"hour {hour!r} is not a local hour 00 to 23")
            if not (math.isfinite(rate) and rate >= 0):
                raise ValueError(f"hour {hour}: {rate} arrivals is not a number >= 0")
        if sum(rates.values()) <= 0:
            raise ValueError("no arrivals in any hour")
        return {f"{int(hour):02d}": rate for hour, rate in sorted(rates.items())}

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[str]) -> list[str]:
        for day in days:
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
        return days

    @field_validator("weekday_load")
    @classmethod
    def _loads(cls, loads: dict[str, float]) -> dict[str, float]:
        for day, load in loads.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
            if not (math.isfinite(load) and load >= 0):
                raise ValueError(f"{day}: load {load} is not a number >= 0")
        return loads

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [service.name for service in self.services]
        _unique("service name", names)
        _unique("prefix", [service.prefix for service in self.services])
        staffed = set()
        hours: dict[str, tuple[str, str, list[tuple[str, str]], str]] = {}
        for service in self.services:
            staffed.add(service.name)
            for index, counter in enumerate(service.counters):
                name = counter.name or f"{service.name} {index + 1}"
                mine = (counter.open, counter.close, counter.pauses, service.name)
                theirs = hours.setdefault(name, mine)
                if theirs[:3] != mine[:3]:
                    raise ValueError(
                        f"counter {name!r} has other hours under {service.name!r} than under "
                        f"{theirs[3]!r} (one counter, one set of hours)"
                    )
        for index, journey in enumerate(self.journeys):
            for step, service_name in enumerate(journey.path):
                if service_name not in staffed:
                    raise ValueError(f"journeys[{index}].path: unknown service {service_name!r}")
                if step and journey.path[step - 1] == service_name:
                    raise ValueError(
                        f"journeys[{index}].path: {service_name!r} twice in a row (a transfer "
                        "goes to another service)"
                    )
        total = sum(journey.share for journey in self.journeys)
        if abs(total - 1) > 0.001:
            raise ValueError(f"journeys: the shares add up to {total:g}, not 1")
        return self

    def counter_plans(self) -> dict[str, tuple[CounterHours, tuple[str, ...]]]:
        """Each counter by name (unnamed: "<service> <n>"), its hours and its services."""
        found: dict[str, tuple[CounterHours, tuple[str, ...]]] = {}
        for service in self.services:
            for index, counter in enumerate(service.counters):
                name = counter.name or f"{service.name} {index + 1}"
                hours, served = found.get(name, (counter, ()))
                found[name] = (hours, (*served, service.name))
        return found

    def load_on(self, weekday: int) -> float:
        return self.weekday_load.get(WEEKDAYS[weekday], 1.0)

    def open_on(self, weekday: int) -> bool:
        return WEEKDAYS[weekday] in self.days


def _unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} appears twice")
        seen.add(value)


class Scenario(_Model):
    clinics: list[ClinicPlan] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes(self) -> Self:
        _unique("clinic code", [clinic.code.upper() for clinic in self.clinics])
        return self


def _where(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith(("function-", "tuple[", "list[")):
            text += f".{part}" if text else part
    return text or "scenario"


def parse_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        lines = [
            f"{_where(item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        ]
        raise ScenarioError(f"{source}: " + "; ".join(lines)) from None


def load_scenario(path: str | Path) -> Scenario:
    """The scenario in a JSON file, or `ScenarioError` saying what is wrong with it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: not JSON: {error}") from None
    return parse_scenario(data, source=str(path))
