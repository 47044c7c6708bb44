"""A fixed-window request limit per client IP and per token (collections_app.ratelimit)."""

from collections_app.ratelimit import hit, window

LIMIT = 60  # requests
WINDOW = 60  # seconds


def limited(request, token: str) -> bool:
    """Count this request; True when its IP or its token is over the limit this minute."""
    current, _ = window(WINDOW)
    ip = request.META.get("REMOTE_ADDR", "")
    by_ip = hit(f"portal:rl:ip:{ip}:{current}", WINDOW)
    by_token = hit(f"portal:rl:tk:{token[:100]}:{current}", WINDOW)
    return by_ip > LIMIT or by_token > LIMIT
