"""Fixed-window request counts in Django's cache. With Redis configured (REDIS_URL) every
process counts in one place and INCR is atomic; the local-memory default counts per process."""

import time

from django.core.cache import cache


def window(seconds: int, now: float | None = None) -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    now = time.time() if now is None else now
    return int(now // seconds), max(1, int(seconds - now % seconds))


def hit(key: str, seconds: int) -> int:
    """Count one request under key (which names its window); returns the count so far."""
    if cache.add(key, 1, seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        return 1
