"""Date normalisation: many spellings in, 'YYYY-MM-DD' or None out, never a guess."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from index.sources.dates import normalise_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01", "2024-05-01"),
        (" '2024-5-1' ", "2024-05-01"),
        ("2024-05-01T23:59:59Z", "2024-05-01"),
        ("2024-05-01T23:30:00-05:00", "2024-05-01"),  # the writer's own date, not converted to UTC
        ("2024-05-01 08:00", "2024-05-01"),
        ("20240501", "2024-05-01"),
        ("2024/05/01", "2024-05-01"),
        ("Wed, 01 May 2024 22:00:00 -0700", "2024-05-01"),
        ("Wed, 01 May 2024 08:00:00 GMT", "2024-05-01"),
        ("May 1, 2024", "2024-05-01"),
        ("1st May 2024", "2024-05-01"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1, 23, 0, tzinfo=UTC), "2024-05-01"),
        (time.struct_time((2024, 5, 1, 12, 0, 0, 2, 122, 0)), "2024-05-01"),
        (1714521600, "2024-05-01"),
        (1714521600000, "2024-05-01"),
        ("2024-02-30", None),
        ("2024-13-01", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (True, None),
        ({"date": "2024-05-01"}, None),
        ("0001-01-01", None),
    ],
)
def test_normalise_date(value: object, expected: str | None) -> None:
    assert normalise_date(value) == expected
