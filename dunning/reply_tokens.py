"""The reply token in a customer's reply address (replies+<token>@domain) and in the
X-Dunmore-Reply header of what we send. It lives in dunning, which sends the mail, so that
dependencies point down: the inbox, which reads replies, imports it from here.

A token is the customer's id and a short HMAC of it under its own salt (the primitive
django.core.signing is built on). Hex and digits only, because mail servers may change the
case of an address's local part; 16 hex digits (64 bits) cannot be guessed by posting mail."""

import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

# The inbox's salt, kept when the code moved here so that tokens already sent stay valid.
SALT = "inbox.reply-token"
HEADER = "X-Dunmore-Reply"
_TOKEN = re.compile(r"(\d+)-([0-9a-f]{16})")
_PLUS = re.compile(r"^[^@+\s]+\+([^@\s]+)@", re.IGNORECASE)


def _signature(customer_id: int) -> str:
    return salted_hmac(SALT, str(customer_id), algorithm="sha256").hexdigest()[:16]


def reply_token(customer_id: int) -> str:
    return f"{customer_id}-{_signature(customer_id)}"


def reply_address(customer_id: int) -> str:
    """The address a customer's replies go to; "" when INBOX_REPLY_ADDRESS is not set."""
    base = settings.INBOX_REPLY_ADDRESS
    if "@" not in base:
        return ""
    local, _, domain = base.rpartition("@")
    return f"{local}+{reply_token(customer_id)}@{domain}"


def customer_id_from_token(token: str) -> int | None:
    match = _TOKEN.fullmatch(token.strip().lower())
    if not match:
        return None
    customer_id = int(match.group(1))
    if not constant_time_compare(match.group(2), _signature(customer_id)):
        return None
    return customer_id


def customer_id_from_address(address: str) -> int | None:
    """The customer named by a plus-address's valid token, else None."""
    match = _PLUS.match(address.strip())
    return customer_id_from_token(match.group(1)) if match else None
