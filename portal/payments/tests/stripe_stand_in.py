"""A stand-in for Stripe, on the loopback, for the tests: the part of Stripe's API the
official library calls to open a Checkout Session, the hosted page a customer pays on,
and webhook events signed the way Stripe signs them.

API (form-encoded, as the library sends it; JSON back, Stripe's shapes):
  POST /v1/checkout/sessions        a session: id cs_test_..., url = our hosted page
  GET  /v1/checkout/sessions/<id>   the session as it is now
Hosted page:
  GET  /c/pay/<id>                  "Pay <amount>" and a Pay button
  POST /c/pay/<id>                  completes the session, posts a signed
                                    checkout.session.completed to the webhook, then sends
                                    the browser to the session's success_url

Events carry `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
computed here with hmac, not with the library under test."""

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx"}
ZERO_DECIMAL |= {"vnd", "vuv", "xaf", "xof", "xpf"}
API_VERSION = "2026-09-30.clover"

# A webhook target: a URL, or a callable(body, headers) -> status for tests that post
# in-process on their own thread (an in-memory test database lives on that thread only).
Target = str | Callable[[bytes, dict], int]


def signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's Stripe-Signature header for this body."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def form_decode(body: str) -> dict:
    """Stripe's bracketed form encoding (line_items[0][price_data][currency]=gbp) back into
    nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


def _error(message: str, kind: str = "invalid_request_error") -> dict:
    return {"error": {"type": kind, "message": message}}


class StripeStandIn:
    def __init__(self, *, api_key: str, webhook_secret: str, webhook: Target = ""):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook = webhook
        self.sessions: dict[str, dict] = {}
        self.created: list[dict] = []  # the decoded parameters of each create call
        self.deliveries: list[tuple[str, int]] = []  # (event id, our status)
        self.fail_api = False  # answer the API with a 500, as an outage would
        # Seconds between the customer's return and the event, as when Stripe's event is
        # slower than the browser: 0 delivers before the redirect.
        self.delivery_delay = 0.0
        self._by_idempotency: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- running ------------------------------------------------------------------------

    def __enter__(self):
        handler = type("Handler", (_Handler,), {"stand_in": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- the API ------------------------------------------------------------------------

    def session_create(self, params: dict, idempotency_key: str) -> dict:
        with self._lock:
            if idempotency_key and idempotency_key in self._by_idempotency:
                return self.sessions[self._by_idempotency[idempotency_key]]
            self.created.append(params)
            items = params.get("line_items") or []
            currency = items[0]["price_data"]["currency"] if items else "gbp"
            total = sum(
                int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
                for item in items
            )
            session_id = "cs_test_" + secrets.token_hex(24)
            now = int(time.time())
            session = {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id"),
                "created": now,
                "currency": currency,
                "customer_email": params.get("customer_email"),
                "expires_at": now + 24 * 3600,
                "livemode": False,
                "metadata": params.get("metadata") or {},
                "mode": params.get("mode", "payment"),
                "payment_intent": None,
                "payment_method_types": params.get("payment_method_types") or ["card"],
                "payment_status": "unpaid",
                "status": "open",
                "success_url": params.get("success_url"),
                "url": f"{self.url}/c/pay/{session_id}",
            }
            self.sessions[session_id] = session
            if idempotency_key:
                self._by_idempotency[idempotency_key] = session_id
            return session

    # --- paying and events --------------------------------------------------------------

    def pay(self, session_id: str) -> dict:
        """The customer pays on the hosted page: the session completes, paid."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(
                status="complete",
                payment_status="paid",
                payment_intent="pi_" + secrets.token_hex(12),
            )
            return dict(session)

    def event(self, session: dict, kind: str = "checkout.session.completed") -> dict:
        return {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": dict(session)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def deliver(
        self, event: dict, *, timestamp: int | None = None, secret: str | None = None
    ) -> int:
        """Post the event, signed, to the webhook as Stripe would; returns the status."""
        body = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature(body, secret or self.webhook_secret, timestamp),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        status = post(self.webhook, body, headers)
        self.deliveries.append((event["id"], status))
        return status

    def complete(self, session_id: str) -> dict:
        """Pay and deliver checkout.session.completed; returns the event."""
        event = self.event(self.pay(session_id))
        self.deliver(event)
        return event

    def amount_text(self, session: dict) -> str:
        digits = 0 if session["currency"] in ZERO_DECIMAL else 2
        amount = Decimal(session["amount_total"]).scaleb(-digits)
        return f"{amount:,.{digits}f} {session['currency'].upper()}"


def post(target: Target, body: bytes, headers: dict) -> int:
    if callable(target):
        return target(body, headers)
    request = urllib.request.Request(target, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class _Handler(BaseHTTPRequestHandler):
    stand_in: StripeStandIn

    def log_message(self, *args):  # quiet
        pass

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(8))
        self.end_headers()
        self.wfile.write(body)

    def _html(self, status: int, html: str) -> None:
        body = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> str:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.stand_in.api_key}":
            return True
        self._json(401, _error("Invalid API Key provided."))
        return False

    def do_POST(self):
        stand_in = self.stand_in
        if self.path == "/v1/checkout/sessions":
            body = self._body()
            if not self._authorised():
                return
            if stand_in.fail_api:
                self._json(500, _error("Something went wrong on our end.", "api_error"))
                return
            params = form_decode(body)
            if params.get("mode") != "payment" or not params.get("success_url"):
                self._json(400, _error("Missing required param: success_url."))
                return
            key = self.headers.get("Idempotency-Key", "")
            self._json(200, stand_in.session_create(params, key))
        elif match := re.fullmatch(r"/c/pay/(cs_test_\w+)", self.path):
            self._body()
            if match.group(1) not in stand_in.sessions:
                self._html(404, "<p>No such checkout.</p>")
                return
            session = stand_in.pay(match.group(1))
            event = stand_in.event(session)
            if stand_in.delivery_delay:
                timer = threading.Timer(stand_in.delivery_delay, stand_in.deliver, [event])
                timer.daemon = True
                timer.start()
            else:
                stand_in.deliver(event)
            url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
            self.send_response(303)
            self.send_header("Location", url)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, _error("Unrecognized request URL."))

    def do_GET(self):
        stand_in = self.stand_in
        if match := re.fullmatch(r"/v1/checkout/sessions/(\w+)", self.path):
            if not self._authorised():
                return
            session = stand_in.sessions.get(match.group(1))
            if session is None:
                self._json(404, _error(f"No such checkout.session: '{match.group(1)}'"))
            else:
                self._json(200, session)
        elif match := re.fullmatch(r"/c/pay/(cs_test_\w+)", self.path):
            session = stand_in.sessions.get(match.group(1))
            if session is None:
                self._html(404, "<p>No such checkout.</p>")
                return
            amount = escape(stand_in.amount_text(session))
            self._html(
                200,
                f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay {amount}</title></head><body><main>
<h1>Pay {amount}</h1>
<p>Test mode: the stand-in for Stripe Checkout.</p>
<form method="post" action="/c/pay/{session["id"]}">
<button type="submit">Pay</button></form>
<p><a href="{escape(session["cancel_url"] or "")}">Cancel</a></p>
</main></body></html>""",
            )
        else:
            self._json(404, _error("Unrecognized request URL."))
