"""For tests that make PostgreSQL sessions meet on a lock: how many are waiting on one."""

from django.db import connection


def sessions_waiting_on_locks() -> int:
    """Sessions of this test database waiting on a lock, read afresh each time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one snapshot per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
