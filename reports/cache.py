"""Slow dashboard parts kept for a few minutes in the database, so every web process and
the worker share them. The worker's refresh (reports.tasks) recomputes the default
dashboard's parts before they expire, so managers rarely wait for them."""

import datetime as dt
import logging
import pickle
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import CachedPart

T = TypeVar("T")
MAX_AGE = dt.timedelta(minutes=10)
log = logging.getLogger(__name__)


def cached_many(
    parts: dict[str, Callable[[], object]], *, fresh: bool = False
) -> dict[str, tuple[object, dt.datetime]]:
    """{key: (value, when it was computed)}: each kept value younger than MAX_AGE, read in
    one query, else (or when fresh) its compute() kept under its key."""
    found = {}
    if not fresh:
        rows = CachedPart.objects.filter(
            key__in=list(parts), computed_at__gte=timezone.now() - MAX_AGE
        ).values_list("key", "value", "computed_at")
        for key, value, computed_at in rows:
            try:
                found[key] = (pickle.loads(value), computed_at)
            except Exception:  # kept by an older release: compute it again
                log.info("Cached part %s could not be read; recomputing.", key)
    for key, compute in parts.items():
        if key not in found:
            found[key] = _keep(key, compute())
    return found


def cached(key: str, compute: Callable[[], T], *, fresh: bool = False) -> tuple[T, dt.datetime]:
    return cached_many({key: compute}, fresh=fresh)[key]


def _keep(key: str, value):
    now = timezone.now()
    try:
        with transaction.atomic():
            CachedPart.objects.update_or_create(
                key=key, defaults={"value": pickle.dumps(value), "computed_at": now}
            )
    except IntegrityError:
        pass  # another request kept the same part meanwhile
    return value, now


def forget_all() -> None:
    CachedPart.objects.all().delete()


def forget_expired() -> int:
    """Drop the parts too old to be used again (other dates and periods managers looked
    at); returns how many."""
    return CachedPart.objects.filter(computed_at__lt=timezone.now() - MAX_AGE).delete()[0]
