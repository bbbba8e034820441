"""Schedule expressions in EventBridge Scheduler's syntax, checked and evaluated the way it evaluates them.

`rate(5 minutes)`: every period from its first fire (a period after the schedule was made); `cron(min hour day-of-month month day-of-week
year)`: six fields, days of the week 1-7 = SUN-SAT, `?` in one of the day fields, `L`, `W` and `#` as
EventBridge has them; `at(2027-01-01T08:00:00)`: once. Times are in the schedule's IANA time zone. The cron
fields are translated to croniter's (pinned in requirements.txt), which evaluates them in that zone.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
import zoneinfo
from dataclasses import dataclass

from croniter import croniter

from .errors import BadRequestError

MAX_PER_GRAPH = 10  # schedules of one graph: each is an EventBridge schedule and a run slot every fire
MIN_RATE_MINUTES = 1  # EventBridge's own floor, and the local firer's resolution
MAX_EXPRESSION = 256  # EventBridge Scheduler's ScheduleExpression limit
NEXT_COUNT = 5  # next fire times each schedule answers with
_RATE = re.compile(r"^rate\(\s*(\d{1,6})\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELD = re.compile(r"^[0-9A-Za-z*?/,#\-]+$")


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text as EventBridge takes it and what evaluates it."""

    text: str
    kind: str  # rate | cron | at
    period: int = 0  # rate: seconds
    cron: str = ""  # cron: croniter's seven fields (seconds 0, year last)
    at: _dt.datetime | None = None  # at: naive, in the schedule's zone

    def next_times(self, zone: str, after: _dt.datetime, anchor: _dt.datetime, count: int = NEXT_COUNT
                   ) -> list[_dt.datetime]:
        """The next `count` fire times strictly after `after` (aware), in `zone`.

        A rate fires at `anchor` and every period from it (EventBridge: the schedule's StartDate, else its
        creation). A cron time that a spring-forward skips does not fire, and one that a fall-back repeats
        fires once, as EventBridge Scheduler does (croniter would move the first and repeat the second)."""
        tz = time_zone(zone)
        after = after.astimezone(tz)
        if self.kind == "at":
            when = self.at.replace(tzinfo=tz) if self.at else None
            return [when] if when is not None and when > after else []
        if self.kind == "rate":
            start = anchor.astimezone(tz)
            elapsed = (after - start).total_seconds()
            first = max(0, int(elapsed // self.period) + 1)
            return [start + _dt.timedelta(seconds=self.period * (first + n)) for n in range(count)]
        times, iterator = [], croniter(self.cron, after)
        last_wall = after.replace(tzinfo=None)
        for _ in range(count * 4 + 8):  # a skipped or repeated time is passed over, not counted
            try:
                when = iterator.get_next(_dt.datetime)
            except (StopIteration, ValueError, OverflowError, IndexError):  # e.g. a year range that has ended
                break
            wall = when.replace(tzinfo=None)
            if wall <= last_wall or not croniter.match(self.cron, wall):
                continue
            times.append(when)
            last_wall = wall
            if len(times) == count:
                break
        return times

    def first_rate_fire(self, created: _dt.datetime, now: _dt.datetime) -> _dt.datetime:
        """A rate's StartDate: one period after its creation, or the next such time after `now` (an update keeps
        the phase; EventBridge without a StartDate would fire at once, at every create and update)."""
        start = created + _dt.timedelta(seconds=self.period)
        if start > now:
            return start
        return start + _dt.timedelta(seconds=self.period * (int((now - start).total_seconds() // self.period) + 1))

    def fires_between(self, zone: str, start: _dt.datetime, end: _dt.datetime, anchor: _dt.datetime
                      ) -> list[_dt.datetime]:
        """The fire times in (start, end], oldest first (the local firer's tick)."""
        found: list[_dt.datetime] = []
        cursor = start
        while True:
            batch = [t for t in self.next_times(zone, cursor, anchor, count=NEXT_COUNT) if t <= end]
            found.extend(batch)
            if len(batch) < NEXT_COUNT:
                return found
            cursor = batch[-1]


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(name: object) -> zoneinfo.ZoneInfo:
    """An IANA zone by name (400 for anything else: EventBridge takes only IANA names)."""
    if not isinstance(name, str) or name not in _zones():
        shown = name[:60] if isinstance(name, str) else type(name).__name__
        raise BadRequestError(f"`timezone` must be an IANA time zone name such as `UTC` or `Europe/Berlin`, "
                              f"not `{shown}`")
    return zoneinfo.ZoneInfo(name)


def _day_of_week(item: str) -> str:
    """One item of EventBridge's day-of-week list (1-7 = SUN-SAT) as croniter reads it (0-6 = SUN-SAT)."""

    def day(value: str) -> str:
        if value.upper() in _DAY_NAMES:
            return value.upper()
        if not value.isdigit() or not 1 <= int(value) <= 7:
            raise ValueError(f"day of week `{value}` is not 1-7 or SUN-SAT")
        return str(int(value) - 1)

    if item in ("*", "?"):
        return "*"
    if item == "L":  # the last day of the week
        return "6"
    if item.endswith("L"):  # the last <day> of the month
        return f"L{day(item[:-1])}"
    if "#" in item:
        value, _, nth = item.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ValueError(f"`{item}`: the n of `#n` is 1-5")
        return f"{day(value)}#{nth}"
    base, slash, step = item.partition("/")
    if base == "*":
        translated = "*"
    elif "-" in base:
        low, _, high = base.partition("-")
        translated = f"{day(low)}-{day(high)}"
    else:
        translated = day(base)
    return f"{translated}/{step}" if slash else translated


def _cron(fields_text: str) -> str:
    fields = fields_text.split()
    if len(fields) != 6:
        raise ValueError("it has six fields: minutes hours day-of-month month day-of-week year")
    if not all(_FIELD.match(field) for field in fields):
        raise ValueError("a field has a character EventBridge does not take")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError("one of day-of-month and day-of-week must be `?` (and only one)")
    if "?" in (minutes, hours, month, year):
        raise ValueError("`?` is only for day-of-month or day-of-week")
    if "LW" in day_of_month.upper():
        raise ValueError("`LW` is not supported here; use `L` or a day with `W`")
    if "#" in day_of_month:
        raise ValueError("`#` is for day-of-week only")
    dom = "*" if day_of_month == "?" else day_of_month.upper()
    dow = ",".join(_day_of_week(item.upper()) for item in day_of_week.split(","))
    translated = f"{minutes} {hours} {dom} {month.upper()} {dow} 0 {year}"
    croniter(translated)  # raises on what it cannot evaluate
    return translated


def parse(text: object) -> Expression:
    """A checked expression, or a 400 that says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequestError("`expression` is required: `rate(5 minutes)`, `cron(0 8 * * ? *)` or "
                              "`at(2027-01-01T08:00:00)`")
    text = text.strip()
    if len(text) > MAX_EXPRESSION:
        raise BadRequestError(f"`expression` is at most {MAX_EXPRESSION} characters")
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise BadRequestError(f"`{text}`: a rate is at least 1")
        if (value == 1) != (not unit.endswith("s")):  # EventBridge: `1 minute`, `5 minutes`
            single = unit.rstrip("s")
            raise BadRequestError(f"`{text}`: write `rate(1 {single})` for one, `rate(N {single}s)` for more")
        period = value * _UNIT_SECONDS[unit.rstrip("s")]
        if period < MIN_RATE_MINUTES * 60:
            raise BadRequestError(f"`{text}`: the shortest rate is {MIN_RATE_MINUTES} minute")
        return Expression(text, "rate", period=period)
    cron = _CRON.match(text)
    if cron:
        try:
            return Expression(text, "cron", cron=_cron(cron.group(1)))
        except (ValueError, KeyError, TypeError, IndexError, OverflowError) as exc:  # croniter's errors are ValueErrors
            raise BadRequestError(f"`{text}` is not a cron expression EventBridge Scheduler takes: {exc}") from exc
    at = _AT.match(text)
    if at:
        try:
            return Expression(text, "at", at=_dt.datetime.fromisoformat(at.group(1)))
        except ValueError as exc:
            raise BadRequestError(f"`{text}`: {exc}") from exc
    raise BadRequestError(f"`{text[:80]}` is not a schedule expression: `rate(5 minutes)`, `cron(0 8 * * ? *)` "
                          "(minutes hours day-of-month month day-of-week year) or `at(2027-01-01T08:00:00)`")


def iso(when: _dt.datetime) -> str:
    """A fire time as the API shows it: ISO 8601 with the zone's offset."""
    return when.isoformat(timespec="seconds")
