"""One HTTP attempt of one delivery, signed by the Standard Webhooks scheme."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from standardwebhooks import Webhook

from .models import RESPONSE_BODY_LIMIT, Delivery

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    body: str
    error: str


def signed_request(delivery: Delivery, *, now: datetime) -> urllib.request.Request:
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    signature = Webhook(delivery.endpoint.secret).sign(delivery.event_id, now, body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Dunmore-Webhooks",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return urllib.request.Request(delivery.endpoint.url, data=body, headers=headers, method="POST")


def post(delivery: Delivery, *, now: datetime, timeout: float = TIMEOUT_SECONDS) -> Answer:
    request = signed_request(delivery, now=now)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, _read(response), "")
    except urllib.error.HTTPError as error:
        return Answer(error.code, _read(error), f"HTTP {error.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Answer(None, "", f"{type(reason).__name__}: {reason}"[:500])


def _read(response) -> str:
    try:
        return response.read(RESPONSE_BODY_LIMIT).decode("utf-8", "replace")
    except (OSError, TimeoutError):
        return ""
