"""One HTTP attempt of one delivery, signed by the Standard Webhooks scheme.

The opener is built by hand: http and https only, no proxy, and no redirects followed (a 3xx
is a failure showing its status), so a receiver cannot bounce a delivery to an internal
address. Unless WEBHOOKS_ALLOW_PRIVATE_URLS is on, each connection goes only to an address
checked public (addresses.connect_checked)."""

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from standardwebhooks import Webhook

from .addresses import AddressNotAllowed, connect_checked, private_allowed
from .models import RESPONSE_BODY_LIMIT, Delivery

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    body: str
    error: str


class CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # http.client's own hook for opening the socket; HTTPS wraps what it returns,
        # still checking the certificate against the URL's host name.
        self._create_connection = connect_checked


class CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = connect_checked


class CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(CheckedHTTPConnection, req)


class CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(CheckedHTTPSConnection, req)


def opener() -> urllib.request.OpenerDirector:
    checked = not private_allowed()
    director = urllib.request.OpenerDirector()
    for handler in (
        CheckedHTTPHandler() if checked else urllib.request.HTTPHandler(),
        CheckedHTTPSHandler() if checked else urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),  # non-2xx, 3xx included, raises HTTPError
        urllib.request.HTTPErrorProcessor(),
    ):
        director.add_handler(handler)
    return director


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
        with opener().open(request, timeout=timeout) as response:
            return Answer(response.status, _read(response), "")
    except AddressNotAllowed as refusal:
        return Answer(None, "", str(refusal))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _read(error), _http_error(error))
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Answer(None, "", f"{type(reason).__name__}: {reason}"[:500])


def _http_error(error: urllib.error.HTTPError) -> str:
    if 300 <= error.code < 400:
        location = error.headers.get("Location", "") if error.headers else ""
        return f"HTTP {error.code}: redirects are not followed (to {location or 'nowhere'})"[:500]
    return f"HTTP {error.code}"


def _read(response) -> str:
    try:
        return response.read(RESPONSE_BODY_LIMIT).decode("utf-8", "replace")
    except (OSError, TimeoutError):
        return ""
