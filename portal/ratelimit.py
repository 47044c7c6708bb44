"""A fixed-window request limit per client IP and per token, kept in Django's cache (the
default local-memory cache counts per process; a shared cache counts for all)."""

import time

from django.core.cache import cache

LIMIT = 60  # requests
WINDOW = 60  # seconds


def _hit(key: str) -> int:
    if cache.add(key, 1, WINDOW):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, WINDOW)
        return 1


def limited(request, token: str) -> bool:
    """Count this request; True when its IP or its token is over the limit this minute."""
    window = int(time.time() // WINDOW)
    ip = request.META.get("REMOTE_ADDR", "")
    by_ip = _hit(f"portal:rl:ip:{ip}:{window}")
    by_token = _hit(f"portal:rl:tk:{token[:100]}:{window}")
    return by_ip > LIMIT or by_token > LIMIT
