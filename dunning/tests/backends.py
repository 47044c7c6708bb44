"""Test-only mail backends."""

from anymail.backends.test import EmailBackend as AnymailTestBackend


class FailingBackend(AnymailTestBackend):
    """Refuses every message, as an ESP that is down would."""

    def send_messages(self, email_messages):
        raise ConnectionError("ESP unreachable")


class CrashAfterBackend(AnymailTestBackend):
    """Accepts `limit` messages, then fails every later one: a run cut off halfway."""

    limit = 2
    sent = 0

    def send_messages(self, email_messages):
        if CrashAfterBackend.sent >= CrashAfterBackend.limit:
            raise ConnectionError("worker killed")
        CrashAfterBackend.sent += len(email_messages)
        return super().send_messages(email_messages)
