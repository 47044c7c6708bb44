"""copy_rows writes each moment as psycopg's own COPY would: the same instants and dates
come back, however many rows share a moment or in which zone it was given."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from collections_app.pgcopy import copy_rows

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def _rows():
    noon = dt.datetime(2026, 7, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    return [
        (1, noon, dt.date(2026, 7, 1), "a", Decimal("12.34")),
        (2, noon, dt.date(2026, 7, 1), "b", Decimal("0.01")),  # the same moment again
        (3, noon.astimezone(LONDON), dt.date(2026, 12, 31), "c", None),  # the same instant
        (4, noon.astimezone(NEW_YORK), None, "d\te", Decimal("-5")),
        (5, dt.datetime(2026, 12, 1, 9, 0, tzinfo=LONDON), dt.date(2024, 2, 29), "", None),
        # London's clocks go back: 01:30 comes twice, an hour apart.
        (6, dt.datetime(2026, 10, 25, 1, 30, tzinfo=LONDON), None, "f", None),
        (7, dt.datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON), None, "g", None),
        (8, None, None, None, None),
    ]


def _copied(table: str, copy) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {table} "
            "(n int, at timestamptz, day date, note text, amount numeric)"
        )
        copy(cursor, f"COPY {table} (n, at, day, note, amount) FROM STDIN", _rows())
        cursor.execute(f"SELECT n, at, day, note, amount FROM {table} ORDER BY n")
        return cursor.fetchall()


def _psycopg_copy(cursor, sql, rows):
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def test_moments_come_back_as_they_went_in(db):
    back = _copied("copied_moments", copy_rows)

    # In UTC: Python never finds a time in a zone's repeated hour equal to one elsewhere.
    assert back == [(n, at and at.astimezone(dt.UTC), *rest) for n, at, *rest in _rows()]
    assert back == _copied("psycopg_moments", _psycopg_copy)
    # The clocks went back: the two 01:30s are an hour apart.
    assert back[6][1] - back[5][1] == dt.timedelta(hours=1)


def test_other_queries_keep_psycopgs_types(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE moments (at timestamptz)")
        copy_rows(cursor, "COPY moments (at) FROM STDIN", [(dt.datetime.now(dt.UTC),)])
    moment = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s + interval '1 day', %s + 1", [moment, moment.date()])
        assert cursor.fetchone() == (moment + dt.timedelta(days=1), dt.date(2026, 1, 3))
