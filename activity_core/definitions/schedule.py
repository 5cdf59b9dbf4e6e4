"""When a definition runs: a daily wall-clock time in a zone, or a fixed interval. Pure.

Both shapes share the policy Temporal enforces (overlap, catch-up window, the run's time
limit) and the bound within which a run counts as on time. Ticks are computed here, from the
definition, so the calibration walk and the missed-tick check reason from what *should* have
fired, never from what Temporal's schedule currently says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _SchedulePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = Field(
        default="Europe/Berlin",
        description="The zone of the run's local date (and, for a daily schedule, of its wall-clock time).",
    )
    overlap: Literal["skip", "buffer_one", "allow_all"] = "skip"
    catchup_window_seconds: int = Field(default=4 * 3600, ge=10, le=24 * 3600)
    execution_timeout_seconds: int = Field(default=7200, ge=10, le=23 * 3600)
    on_time_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="A schedule action that starts later than this after its tick is recorded as `late`.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.time_zone)).date()


class DailySchedule(_SchedulePolicy):
    """A daily wall-clock time in a named zone; Temporal resolves the DST changes."""

    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)

    def is_tick(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.time_zone))
        return (local.hour, local.minute, local.second, local.microsecond) == (self.hour, self.minute, 0, 0)

    def tick_on(self, day: date) -> datetime:
        """The UTC instant of the tick on a local day (DST-aware)."""
        local = datetime.combine(day, time(self.hour, self.minute), tzinfo=ZoneInfo(self.time_zone))
        return local.astimezone(UTC)

    def latest_tick(self, now: datetime) -> datetime:
        today = self.local_date(now)
        tick = self.tick_on(today)
        return tick if tick <= now else self.tick_on(today - timedelta(days=1))

    def next_tick(self, after: datetime) -> datetime:
        """The first tick strictly after ``after``."""
        return self.tick_on(self.local_date(self.latest_tick(after)) + timedelta(days=1))

    def ticks_back(self, newest: datetime, count: int) -> list[datetime]:
        day = self.local_date(newest)
        return [self.tick_on(day - timedelta(days=offset)) for offset in range(count)]

    def describe(self) -> str:
        return f"daily {self.hour:02d}:{self.minute:02d} {self.time_zone}"


class IntervalSchedule(_SchedulePolicy):
    """Every N seconds, aligned to the Unix epoch as Temporal aligns interval specs."""

    every_seconds: int = Field(ge=1, le=7 * 24 * 3600)

    def is_tick(self, moment: datetime) -> bool:
        elapsed = moment - _EPOCH
        return elapsed.microseconds == 0 and int(elapsed.total_seconds()) % self.every_seconds == 0

    def latest_tick(self, now: datetime) -> datetime:
        seconds = int((now - _EPOCH).total_seconds()) // self.every_seconds * self.every_seconds
        return _EPOCH + timedelta(seconds=seconds)

    def next_tick(self, after: datetime) -> datetime:
        """The first tick strictly after ``after``."""
        return self.latest_tick(after) + timedelta(seconds=self.every_seconds)

    def ticks_back(self, newest: datetime, count: int) -> list[datetime]:
        step = timedelta(seconds=self.every_seconds)
        return [newest - step * offset for offset in range(count)]

    def describe(self) -> str:
        return f"every {self.every_seconds} s"


def _shape(value: object) -> str:
    fields = value if isinstance(value, dict) else vars(value)
    return "interval" if "every_seconds" in fields else "daily"


# The shape is told by its fields (``every_seconds`` or ``hour``/``minute``), so a broken spec
# is reported against the shape it meant, not against both.
SCHEDULE_SHAPES = ("daily", "interval")
ScheduleSpec = Annotated[
    Annotated[DailySchedule, Tag("daily")] | Annotated[IntervalSchedule, Tag("interval")],
    Discriminator(_shape),
]
