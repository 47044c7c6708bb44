"""Reads about failed logins and the lockouts they cause (django-axes keeps the attempts)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum

ACCOUNT = "account"
ADDRESS = "address"


@dataclass(frozen=True)
class LoginLock:
    kind: str  # ACCOUNT or ADDRESS
    value: str  # the username or the address
    failures: int
    until: datetime

    def minutes_left(self, as_of: datetime) -> int:
        seconds = (self.until - as_of).total_seconds()
        return max(1, -(-int(seconds) // 60))


def _recent(as_of: datetime):
    # Axes forgets an attempt row once its last failure is older than the cool-off, so the
    # window slides: a lock lasts until enough failures have aged out of it.
    return AccessAttempt.objects.filter(attempt_time__gte=as_of - settings.AXES_COOLOFF_TIME)


def login_failure_counts(
    *, username: str | None, ip_address: str | None, as_of: datetime
) -> tuple[int, int]:
    """Recent failed logins (to this account, from this address), in one query."""
    wanted = {
        name: condition
        for name, value, condition in (
            (ACCOUNT, username, Q(username=username)),
            (ADDRESS, ip_address, Q(ip_address=ip_address)),
        )
        if value
    }
    if not wanted:
        return 0, 0
    totals = (
        _recent(as_of)
        .filter(reduce(or_, wanted.values()))
        .aggregate(
            **{name: Sum("failures_since_start", filter=cond) for name, cond in wanted.items()}
        )
    )
    return totals.get(ACCOUNT) or 0, totals.get(ADDRESS) or 0


def _locked_until(rows: list[tuple[datetime, int]], limit: int) -> datetime | None:
    """The lock holds while the rows still in the window add up to the limit: newest first,
    the row that reaches it is the one whose ageing out ends the lock."""
    total = 0
    for at, failures in sorted(rows, reverse=True):
        total += failures
        if total >= limit:
            return at + settings.AXES_COOLOFF_TIME
    return None


def _locks(attempts, as_of: datetime) -> list[LoginLock]:
    by_kind = {ACCOUNT: defaultdict(list), ADDRESS: defaultdict(list)}
    for username, ip_address, failures, at in attempts:
        if username:
            by_kind[ACCOUNT][username].append((at, failures))
        if ip_address:
            by_kind[ADDRESS][ip_address].append((at, failures))
    limits = {
        ACCOUNT: settings.LOGIN_FAILURE_LIMIT,
        ADDRESS: settings.LOGIN_ADDRESS_FAILURE_LIMIT,
    }
    locks = []
    for kind, groups in by_kind.items():
        for value, rows in groups.items():
            until = _locked_until(rows, limits[kind])
            if until is not None and until > as_of:
                failures = sum(count for _at, count in rows)
                locks.append(LoginLock(kind=kind, value=value, failures=failures, until=until))
    return sorted(locks, key=lambda lock: (lock.kind, lock.value))


_FIELDS = ("username", "ip_address", "failures_since_start", "attempt_time")


def login_lockouts(*, as_of: datetime) -> list[LoginLock]:
    """Every account and address locked now, accounts first."""
    return _locks(_recent(as_of).values_list(*_FIELDS), as_of)


def login_locks_for(
    *, username: str | None, ip_address: str | None, as_of: datetime
) -> list[LoginLock]:
    """The locks that refuse a login to this account from this address."""
    conditions = {
        (ACCOUNT, username): Q(username=username),
        (ADDRESS, ip_address): Q(ip_address=ip_address),
    }
    wanted = {key: condition for key, condition in conditions.items() if key[1]}
    if not wanted:
        return []
    attempts = _recent(as_of).filter(reduce(or_, wanted.values()))
    return [
        lock
        for lock in _locks(attempts.values_list(*_FIELDS), as_of)
        if (lock.kind, lock.value) in wanted
    ]
