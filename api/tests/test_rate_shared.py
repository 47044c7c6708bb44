"""With Redis configured, every process of the app counts one token's requests together:
a burst spread over several workers is limited as if it came to one."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from api.auth import rate_parse
from collections_app.ratelimit import window

REDIS = "redis://127.0.0.1:6379/15"
CUSTOMERS = "/api/v1/customers/"
ROOT = Path(__file__).resolve().parents[2]

# Another process of the app, configured only from the environment as a worker would be,
# counting requests for the same token through the same throttle code.
OTHER_PROCESS = """
import django
django.setup()
from api.auth import TokenRateThrottle
from types import SimpleNamespace
from api.models import ApiToken
token = ApiToken(pk={pk})
throttle = TokenRateThrottle()
print(sum(throttle.allow_request(SimpleNamespace(auth=token), None) for _ in range({n})))
"""


@pytest.fixture
def redis_cache(settings):
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": prefix,
        }
    }
    yield prefix
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _clear_of_the_window_end(limit: str) -> None:
    """Wait for the next window when this one ends within a minute: the limits count in
    fixed windows, and a test crossing the end of one (it once ran at 01:00) sees the
    count start again."""
    _limit, seconds = rate_parse(limit)
    _current, left = window(seconds)
    if left < 60:
        time.sleep(left + 1)


def _other_process(prefix: str, token_pk: int, requests: int, limit: str) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "collections_app.settings",
        "REDIS_URL": REDIS,
        "CACHE_KEY_PREFIX": prefix,
        "API_RATE_LIMIT": limit,
    }
    code = OTHER_PROCESS.format(pk=token_pk, n=requests)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_requests_in_another_process_count_against_the_same_token(api, settings, redis_cache):
    settings.API_RATE_LIMIT = "5/hour"  # one window for the whole test
    _clear_of_the_window_end("5/hour")

    assert api.get(CUSTOMERS).status_code == 200
    # The other process may take the 4 left of 5, and no more.
    assert _other_process(redis_cache, api.token.pk, 6, "5/hour") == 4

    response = api.get(CUSTOMERS)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_another_token_is_not_limited_by_the_first(api, make_token, settings, redis_cache):
    settings.API_RATE_LIMIT = "2/hour"
    _clear_of_the_window_end("2/hour")
    other, _raw = make_token()

    assert _other_process(redis_cache, api.token.pk, 2, "2/hour") == 2
    assert api.get(CUSTOMERS).status_code == 429
    assert _other_process(redis_cache, other.pk, 1, "2/hour") == 1
