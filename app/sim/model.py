"""A clinic's scenario compiled once for all its simulated days, with the ids its events carry."""

from datetime import date
from zoneinfo import ZoneInfo

from app.sim.record import SimClinic
from app.sim.sampling import Picker, local_ts
from app.sim.scenario import ClinicPlan, CounterHours, minute_of_day
from app.sim.state import Counter


class ClinicModel:
    """A clinic's scenario, compiled once for all its days, with the ids its events carry."""

    def __init__(self, plan: ClinicPlan, clinic: SimClinic) -> None:
        self.plan = plan
        self.clinic = clinic
        self.zone = ZoneInfo(plan.timezone)
        self.journeys = Picker([(tuple(journey.path), journey.share) for journey in plan.journeys])
        self.counters = plan.counter_plans()
        missing = [s.name for s in plan.services if s.name not in clinic.services] + [
            name for name in self.counters if name not in clinic.counters
        ]
        if missing:
            raise ValueError(f"clinic {plan.code}: no id for {', '.join(missing)}")
        # Who issues or cancels a ticket at the desk: the first counter serving the service.
        self.desk_user: dict[str, int] = {}
        for name, (_, served) in self.counters.items():
            for service in served:
                self.desk_user.setdefault(service, clinic.staff[clinic.counters[name]])

    def counter(self, name: str, hours: CounterHours, visit_date: date) -> Counter:
        """The counter as it starts the day: closed, its hours as epoch seconds."""

        def at(hhmm: str) -> float:
            return local_ts(visit_date, minute_of_day(hhmm), self.zone)

        counter_id = self.clinic.counters[name]
        pauses = [(at(start), at(end)) for start, end in hours.pauses]
        return Counter(
            name, counter_id, self.clinic.staff[counter_id], at(hours.open), at(hours.close), pauses
        )
