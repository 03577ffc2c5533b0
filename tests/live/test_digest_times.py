"""When digests are due, across both daylight-saving changes of Europe/Paris and America/New_York:
08:00 local stays 08:00 local; a day is never skipped nor run twice; a time the spring-forward change
skips runs at the first instant after it; a time the fall-back change repeats runs once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.live.digest_times import When, WhenError, latest_due, next_due, parse_when

ZONES = ("Europe/Paris", "America/New_York")
CHANGES = {  # 2026's changes: (spring forward, fall back), local dates
    "Europe/Paris": (date(2026, 3, 29), date(2026, 10, 25)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
}


def local(moment: float, zone: str) -> datetime:
    return datetime.fromtimestamp(moment, ZoneInfo(zone))


def dues(when: When, start: float, count: int) -> list[float]:
    found, moment = [], start
    for _ in range(count):
        moment = next_due(when, moment)
        found.append(moment)
    return found


def exists(day: date, hour: int, minute: int, zone: str) -> bool:
    wall = datetime(day.year, day.month, day.day, hour, minute)
    return (
        wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        == wall
    )


def _moment(zone: str, which: int, offset: int, seconds: int) -> tuple[str, float]:
    day = CHANGES[zone][which] + timedelta(days=offset)
    return zone, datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).timestamp() + seconds


# A zone, and a moment from four days before one of its changes to a day after it.
near_a_change = st.builds(
    _moment, st.sampled_from(ZONES), st.sampled_from((0, 1)), st.integers(-4, 1), st.integers(0, 86399)
)


@settings(max_examples=300, deadline=None)
@given(near_a_change, st.integers(0, 23), st.integers(0, 59))
def test_daily_runs_once_every_local_day_at_the_local_time(start, hour, minute):
    zone, begin = start
    when = When(hour, minute, zone)
    found = dues(when, begin, 7)
    days = [local(t, zone).date() for t in found]
    assert days == [days[0] + timedelta(days=i) for i in range(7)]  # one a day: none skipped, none twice
    assert found == sorted(set(found)) and found[0] > begin
    for moment, on in zip(found, days, strict=True):
        reading = local(moment, zone)
        if exists(on, hour, minute, zone):
            assert (reading.hour, reading.minute) == (hour, minute)
            first = datetime(on.year, on.month, on.day, hour, minute, tzinfo=ZoneInfo(zone))
            assert reading.utcoffset() == first.utcoffset()  # a repeated time: its first occurrence
        else:  # skipped by the change: the first instant after it (the change itself)
            wall = datetime(on.year, on.month, on.day, hour, minute)
            assert reading.replace(tzinfo=None) > wall
            assert local(moment - 1, zone).replace(tzinfo=None) < wall


@settings(max_examples=150, deadline=None)
@given(near_a_change, st.integers(0, 6), st.integers(0, 23), st.integers(0, 59))
def test_weekly_runs_once_a_week_on_its_day(start, weekday, hour, minute):
    zone, begin = start
    when = When(hour, minute, zone, weekday)
    days = [local(t, zone).date() for t in dues(when, begin, 4)]
    assert all(d.weekday() == weekday for d in days)
    assert days == [days[0] + timedelta(weeks=i) for i in range(4)]


@settings(max_examples=200, deadline=None)
@given(near_a_change, st.integers(0, 23), st.integers(0, 59))
def test_the_latest_due_time_and_the_next_bracket_any_moment(start, hour, minute):
    zone, moment = start
    when = When(hour, minute, zone)
    before, after = latest_due(when, moment), next_due(when, moment)
    assert before <= moment < after
    assert next_due(when, before) == after  # nothing due between them
    assert latest_due(when, after) == after


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        ("Europe/Paris", "2026-03-29", "2026-03-29T03:00:00+02:00"),  # 02:30 does not exist
        ("America/New_York", "2026-03-08", "2026-03-08T03:00:00-04:00"),
        ("Europe/Paris", "2026-10-25", "2026-10-25T02:30:00+02:00"),  # 02:30 twice: the first, once
        ("America/New_York", "2026-11-01", "2026-11-01T01:30:00-04:00"),  # (01:30 is the repeated hour)
    ],
)
def test_the_change_days_themselves(zone, day, expected):
    wall = "02:30" if zone == "Europe/Paris" or day.endswith("03-08") else "01:30"
    when = parse_when(f"daily {wall} {zone}")
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)).timestamp()
    first, second = dues(when, start, 2)
    assert first == datetime.fromisoformat(expected).timestamp()
    assert local(second, zone).date() == date.fromisoformat(day) + timedelta(days=1)  # not again that day


def test_eight_o_clock_stays_eight_o_clock_across_the_change():
    when = parse_when("daily 08:00 Europe/Paris")
    start = datetime(2026, 3, 27, 12, tzinfo=UTC).timestamp()
    assert [datetime.fromtimestamp(t, UTC).hour for t in dues(when, start, 4)] == [7, 6, 6, 6]
    assert {local(t, "Europe/Paris").hour for t in dues(when, start, 4)} == {8}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("daily 8 Europe/Paris", 'bad time "8"'),
        ("daily 07:60 Europe/Paris", 'bad time "07:60"'),
        ("weekly 08:00 Europe/Paris", 'bad day "08:00"'),
        ("weekly funday 08:00 Europe/Paris", 'bad day "funday"'),
        ("daily 08:00 Paris", 'unknown time zone "Paris"'),
        ("daily 08:00 ../../etc/passwd", "unknown time zone"),
        ("daily 08:00", "needs a time and a time zone"),
        ("every day 08:00 UTC", "does not say daily or weekly"),
    ],
)
def test_a_bad_schedule_names_what_is_wrong(text, problem):
    with pytest.raises(WhenError, match=problem):
        parse_when(text)
