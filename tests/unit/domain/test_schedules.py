"""EventBridge Scheduler's expressions, checked and evaluated in a zone (chalicelib/domain/schedules.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from chalice import BadRequestError

from chalicelib.domain import schedules

UTC = dt.timezone.utc


def _times(expression: str, zone: str, after: dt.datetime, count: int = 5) -> list[str]:
    parsed = schedules.parse(expression)
    return [schedules.iso(t) for t in parsed.next_times(zone, after, after, count=count)]


@pytest.mark.parametrize("expression, zone, first", [
    ("cron(0 8 ? * MON-FRI *)", "Europe/Berlin", "2027-01-04T08:00:00+01:00"),  # Jan 1 2027 is a Friday: 1st, 4th
    ("cron(0 8 ? * 2#1 *)", "UTC", "2027-01-04T08:00:00+00:00"),  # EventBridge's 2 is Monday: the first one
    ("cron(0 8 ? * 6L *)", "UTC", "2027-01-29T08:00:00+00:00"),  # the last Friday
    ("cron(0 8 ? * L *)", "UTC", "2027-01-02T08:00:00+00:00"),  # the last day of the week: Saturday
    ("cron(0 8 L * ? *)", "UTC", "2027-01-31T08:00:00+00:00"),
    ("cron(0 8 16W * ? *)", "UTC", "2027-01-15T08:00:00+00:00"),  # the 16th is a Saturday: the Friday before
    ("cron(0/15 * * * ? 2028)", "UTC", "2028-01-01T00:00:00+00:00"),  # the year field
    ("cron(0 12 1 JAN,JUL ? *)", "Asia/Tokyo", "2027-07-01T12:00:00+09:00"),
])
def test_cron_fields_mean_what_they_mean_to_eventbridge(expression: str, zone: str, first: str) -> None:
    after = dt.datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    assert _times(expression, zone, after)[0] == first


def test_a_rate_fires_at_its_anchor_and_every_period_after() -> None:
    anchor = dt.datetime(2027, 1, 1, 0, 0, 30, tzinfo=UTC)
    rate = schedules.parse("rate(5 minutes)")
    assert [t.isoformat() for t in rate.next_times("UTC", anchor - dt.timedelta(seconds=1), anchor, count=2)] == [
        "2027-01-01T00:00:30+00:00", "2027-01-01T00:05:30+00:00"]
    assert rate.next_times("UTC", anchor + dt.timedelta(minutes=12), anchor, count=1)[0].isoformat() == \
        "2027-01-01T00:15:30+00:00"
    made = dt.datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert rate.first_rate_fire(made, made) == made + dt.timedelta(minutes=5)  # not at once
    assert rate.first_rate_fire(made, made + dt.timedelta(minutes=11)) == made + dt.timedelta(minutes=15)  # its phase
    ticks = rate.fires_between("UTC", anchor, anchor + dt.timedelta(minutes=20), anchor)
    assert [t.minute for t in ticks] == [5, 10, 15, 20]


def test_daylight_saving_skips_the_missing_hour_and_fires_the_repeated_one_once() -> None:
    # Berlin: 2027-03-28 02:00 -> 03:00 (no 02:30 that day); 2027-10-31 03:00 -> 02:00 (02:30 twice)
    spring = _times("cron(30 2 * * ? *)", "Europe/Berlin", dt.datetime(2027, 3, 26, 12, tzinfo=UTC), count=3)
    assert spring == ["2027-03-27T02:30:00+01:00", "2027-03-29T02:30:00+02:00", "2027-03-30T02:30:00+02:00"]
    autumn = _times("cron(30 2 * * ? *)", "Europe/Berlin", dt.datetime(2027, 10, 30, 12, tzinfo=UTC), count=2)
    assert autumn == ["2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00"]
    half_hours = _times("cron(0/30 * * * ? *)", "Europe/Berlin", dt.datetime(2027, 10, 30, 23, 45, tzinfo=UTC), count=4)
    assert half_hours == ["2027-10-31T02:00:00+02:00", "2027-10-31T02:30:00+02:00", "2027-10-31T03:00:00+01:00",
                          "2027-10-31T03:30:00+01:00"]


def test_at_fires_once_in_its_zone() -> None:
    once = schedules.parse("at(2027-06-01T09:00:00)")
    before = dt.datetime(2027, 5, 31, 23, 0, tzinfo=UTC)
    assert [t.isoformat() for t in once.next_times("Asia/Tokyo", before, before)] == ["2027-06-01T09:00:00+09:00"]
    assert once.next_times("Asia/Tokyo", dt.datetime(2027, 6, 1, 1, 0, tzinfo=UTC), before) == []


@pytest.mark.parametrize("expression, said", [
    ("rate(1 minutes)", "rate(1 minute)"),
    ("rate(2 minute)", "rate(N minutes)"),
    ("rate(0 minutes)", "at least 1"),
    ("rate(30 seconds)", "is not a schedule expression"),
    ("cron(0 8 * * * *)", "must be `?`"),
    ("cron(0 8 ? * ? *)", "must be `?`"),
    ("cron(0 8 * *)", "six fields"),
    ("cron(0 8 ? * 8 *)", "1-7 or SUN-SAT"),
    ("cron(0 8 ? * 2#6 *)", "1-5"),
    ("cron(0 8 LW * ? *)", "`LW`"),
    ("cron(0 8 1#2 * ? *)", "day-of-week only"),
    ("cron(0 ? 1 * ? *)", "`?` is only for"),
    ("cron(61 8 1 * ? *)", "not a cron expression"),
    ("at(2027-13-01T00:00:00)", "month"),
    ("", "is required"),
    (None, "is required"),
    ("x" * 300, "at most 256"),
])
def test_what_eventbridge_would_refuse_is_a_400_that_says_why(expression: object, said: str) -> None:
    with pytest.raises(BadRequestError) as refused:
        schedules.parse(expression)
    assert said in str(refused.value)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc+1", "", None, 5, "../../etc/passwd"])
def test_a_zone_is_an_iana_name(zone: object) -> None:
    with pytest.raises(BadRequestError):
        schedules.time_zone(zone)
    assert schedules.time_zone("America/New_York").key == "America/New_York"
