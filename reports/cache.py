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


def cached(key: str, compute: Callable[[], T], *, fresh: bool = False) -> tuple[T, dt.datetime]:
    """(value, when it was computed): the kept value if younger than MAX_AGE, else (or when
    fresh) compute() kept under key."""
    if not fresh:
        row = CachedPart.objects.filter(key=key, computed_at__gte=timezone.now() - MAX_AGE)
        row = row.values_list("value", "computed_at").first()
        if row is not None:
            try:
                return pickle.loads(row[0]), row[1]
            except Exception:  # kept by an older release: compute it again
                log.info("Cached part %s could not be read; recomputing.", key)
    value, now = compute(), timezone.now()
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
