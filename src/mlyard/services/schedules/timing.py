"""When a timer trigger fires: cron expressions and Azure ML recurrences, in a time zone.

Rules: times in the trigger (`start_time`, `end_time`, cron fields, recurrence hours) are wall
clock times of `time_zone` (UTC by default), so "0 3 * * *" in "Pacific Standard Time" is 03:00
in Los Angeles, summer and winter. No `start_time`: the first firing is at creation (as in
Azure), and a recurrence counts its intervals from then. Nothing fires after `end_time`.
A recurrence fires every `interval` minutes / hours / days / weeks / months from its start, at
`schedule.hours` × `schedule.minutes` (default: the start's own hour and minute), on
`schedule.week_days` (weekly; default the start's weekday) or `schedule.month_days` (monthly;
default the start's day; days a month lacks are skipped).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from mlyard.entities.automation.schedule_spec import (
    WEEK_DAYS,
    CronTrigger,
    RecurrencePattern,
    RecurrenceTrigger,
)
from mlyard.errors import InvalidArgument
from mlyard.services.schedules.timezones import resolve_time_zone

MAX_STEPS = 100_000  # bounds the catch-up walk after a long downtime


@dataclass(frozen=True)
class Timing:
    """A timer trigger made concrete: zone, start (the recurrence anchor), end."""

    trigger: CronTrigger | RecurrenceTrigger
    zone: ZoneInfo
    start: datetime  # aware, UTC
    end: datetime | None
    immediate: bool  # no start_time: the first firing is the start itself

    def first_firing(self) -> datetime | None:
        first = self.start if self.immediate else self.next_after(self.start - timedelta(microseconds=1))
        return first if first is not None and (self.end is None or first <= self.end) else None

    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after `moment`, or None once past `end`."""
        found = (
            _next_cron(self, moment)
            if isinstance(self.trigger, CronTrigger)
            else _next_recurrence(self, moment)
        )
        if found is None or (self.end is not None and found > self.end):
            return None
        return found

    def upcoming(self, after: datetime, count: int) -> list[datetime]:
        found: list[datetime] = []
        moment = after
        while len(found) < count:
            nxt = self.next_after(moment)
            if nxt is None:
                break
            found.append(nxt)
            moment = nxt
        return found

    def latest_due(self, due: datetime, now: datetime) -> datetime:
        """The last firing time ≤ `now`, walking from the overdue firing `due` (missed ones collapse)."""
        latest = due
        for _ in range(MAX_STEPS):
            nxt = self.next_after(latest)
            if nxt is None or nxt > now:
                return latest
            latest = nxt
        return latest


def timing_of(
    trigger: CronTrigger | RecurrenceTrigger, created_at: datetime, where: str = "trigger"
) -> Timing:
    """Check the trigger (zone, cron syntax, end after start) and make it concrete."""
    zone = resolve_time_zone(trigger.time_zone, f"{where}.time_zone")
    start = _aware(trigger.start_time, zone) if trigger.start_time else created_at.astimezone(UTC)
    end = _aware(trigger.end_time, zone) if trigger.end_time else None
    if end is not None and end <= start:
        given = "start_time" if trigger.start_time else "now (no start_time)"
        raise InvalidArgument(
            f"{where}.end_time: {end.isoformat()} is not after {given} ({start.isoformat()})"
        )
    if isinstance(trigger, CronTrigger):
        check_cron(trigger.expression, f"{where}.expression")
    return Timing(trigger, zone, start, end, immediate=trigger.start_time is None)


def check_cron(expression: str, where: str) -> None:
    from cronsim import CronSim, CronSimError

    fields = expression.split()
    if len(fields) != 5:
        raise InvalidArgument(
            f"{where}: {expression!r} has {len(fields)} fields; a cron expression has five: "
            "minute hour day-of-month month day-of-week (e.g. '0 3 * * 1')"
        )
    try:
        CronSim(expression, datetime(2026, 1, 1))
    except CronSimError as exc:
        raise InvalidArgument(f"{where}: {expression!r} is not a valid cron expression: {exc}") from None


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)


def _next_cron(timing: Timing, moment: datetime) -> datetime | None:
    from cronsim import CronSim

    assert isinstance(timing.trigger, CronTrigger)
    local = moment.astimezone(timing.zone)
    try:
        found = next(CronSim(timing.trigger.expression, local))
    except StopIteration:
        return None
    return found.astimezone(UTC)


def _next_recurrence(timing: Timing, moment: datetime) -> datetime | None:
    trigger = timing.trigger
    assert isinstance(trigger, RecurrenceTrigger)
    anchor = timing.start.astimezone(timing.zone)
    moment = max(moment, timing.start - timedelta(microseconds=1))
    if trigger.frequency == "minute" or (trigger.frequency == "hour" and not _pattern(trigger).minutes):
        unit = (
            timedelta(minutes=trigger.interval)
            if trigger.frequency == "minute"
            else timedelta(hours=trigger.interval)
        )
        steps = (moment - timing.start) // unit + 1
        return timing.start + max(steps, 0) * unit
    first = _period_index(trigger, anchor, moment.astimezone(timing.zone))
    for index in range(max(first - 1, 0), max(first - 1, 0) + 400):
        found = [
            t for t in _candidates(trigger, anchor, index, timing.zone) if t > moment and t >= timing.start
        ]
        if found:
            return min(found)
    return None


def _pattern(trigger: RecurrenceTrigger) -> RecurrencePattern:
    return trigger.schedule or RecurrencePattern()


def _period_index(trigger: RecurrenceTrigger, anchor: datetime, local: datetime) -> int:
    """Which period (0 = the anchor's) `local` falls in, roughly: the search starts one before."""
    if trigger.frequency == "hour":
        return int((local - anchor).total_seconds() // (3600 * trigger.interval))
    if trigger.frequency == "day":
        return (local.date() - anchor.date()).days // trigger.interval
    if trigger.frequency == "week":
        return (local.date() - _monday(anchor.date())).days // (7 * trigger.interval)
    return ((local.year - anchor.year) * 12 + local.month - anchor.month) // trigger.interval


def _candidates(trigger: RecurrenceTrigger, anchor: datetime, index: int, zone: ZoneInfo) -> list[datetime]:
    pattern = _pattern(trigger)
    minutes = pattern.minutes or [anchor.minute]
    if trigger.frequency == "hour":
        hour_start = anchor.replace(minute=0, second=0, microsecond=0) + timedelta(
            hours=index * trigger.interval
        )
        return [hour_start.replace(minute=m).astimezone(UTC) for m in minutes]
    hours = pattern.hours or [anchor.hour]
    days: list[date | None]
    if trigger.frequency == "day":
        days = [anchor.date() + timedelta(days=index * trigger.interval)]
    elif trigger.frequency == "week":
        monday = _monday(anchor.date()) + timedelta(weeks=index * trigger.interval)
        wanted = [WEEK_DAYS.index(d) for d in pattern.week_days] or [anchor.weekday()]
        days = [monday + timedelta(days=d) for d in wanted]
    else:
        month_index = anchor.month - 1 + index * trigger.interval
        year, month = anchor.year + month_index // 12, month_index % 12 + 1
        days = [_day(year, month, d) for d in (pattern.month_days or [anchor.day])]
    return [
        datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)
        for day, hour, minute in itertools.product(_existing(days), hours, minutes)
    ]


def _existing(days: list[date | None]) -> list[date]:
    return [day for day in days if day is not None]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None  # the 31st of a 30-day month: skipped
