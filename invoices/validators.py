import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(name: str) -> None:
    if name not in timezone_names():
        raise ValidationError(
            f"'{name}' is not an IANA time zone name (e.g. Europe/London).", code="timezone"
        )
