"""The hand-off of one message to the mail server or ESP, and what its failures mean.

Every failure is sorted into one of two kinds, because they call for opposite answers:
- HandoffFailed: the server certainly did not take the message (it could not be reached,
  it refused, it replied with an error). Sending again is safe.
- HandoffUnclear: the message may have been taken (the body went out, or the request
  reached the ESP, and no answer came back). Sending again could mail the customer twice,
  so a person decides (dunning.outcomes).
A backend error of any other kind counts as HandoffFailed: only the mail backend raises
here, and the backends we ship raise only before a message leaves."""

import logging
import smtplib
from collections.abc import Callable

from django.core.mail import EmailMessage, get_connection

log = logging.getLogger(__name__)


class HandoffFailed(Exception):
    """Not sent. server_down: the server itself is unavailable, so the run stops sending
    for now instead of waiting on it once per message."""

    def __init__(self, message: str, *, server_down: bool = False):
        super().__init__(message)
        self.server_down = server_down


class HandoffUnclear(Exception):
    """Perhaps sent: the hand-off began and its answer never came."""


class HandoffWithdrawn(Exception):
    """`commit` said no: the message must not go (its claim was taken over)."""


def handoff(email: EmailMessage, *, commit: Callable[[], bool]) -> str:
    """Give one message to the configured backend; the ESP's message id ("" for backends
    without one). Connects first, then calls `commit` (which records that the hand-off
    begins and says whether it may), then sends: a worker that dies while connecting has
    sent nothing, and says so. Raises HandoffFailed, HandoffUnclear or HandoffWithdrawn."""
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:
        raise HandoffFailed(_describe(exc), server_down=True) from exc
    try:
        if not commit():
            raise HandoffWithdrawn("the message was taken over by another worker")
        sent = connection.send_messages([email])
    except HandoffWithdrawn:
        raise
    except Exception as exc:
        raise _classify(exc, connection) from exc
    finally:
        # The message is already taken (or not): a failed goodbye changes nothing.
        try:
            connection.close()
        except Exception:
            log.warning("closing the mail connection failed", exc_info=True)
    if not sent:
        raise HandoffFailed("the mail backend did not take the message")
    status = getattr(email, "anymail_status", None)
    message_id = getattr(status, "message_id", None) if status else None
    return "" if message_id is None else str(message_id)


def _classify(exc: Exception, connection) -> Exception:
    text = _describe(exc)
    smtp = getattr(connection, "connection", None)
    if isinstance(smtp, smtplib.SMTP):
        if isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
            return HandoffFailed(text)  # the server answered: it did not take it
        if getattr(smtp, "body_sent", False):
            return HandoffUnclear(f"no answer after the message was sent: {text}")
        lost = isinstance(exc, OSError | smtplib.SMTPServerDisconnected)
        return HandoffFailed(text, server_down=lost)
    return _classify_http(exc, text)


def _classify_http(exc: Exception, text: str) -> Exception:
    """anymail's ESP backends post over HTTP with requests; their errors are also the
    requests exception that caused them."""
    import requests  # anymail's dependency, loaded only when an ESP's send failed
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return HandoffFailed(text, server_down=True)
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, NewConnectionError):
            return HandoffFailed(text, server_down=True)
        return HandoffUnclear(f"the ESP did not answer: {text}")
    if isinstance(exc, requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return HandoffUnclear(f"the ESP did not answer: {text}")
    status = getattr(exc, "status_code", None)
    if status is not None and (status >= 500 or status == 429):
        return HandoffFailed(text, server_down=True)
    return HandoffFailed(text)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
