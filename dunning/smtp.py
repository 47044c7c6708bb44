"""Django's SMTP backend, with the two things exactly-once sending needs from it.

1. It knows whether the whole message reached the server. SMTP accepts a message only with
   the reply to the final "." of DATA: a failure before the body went out means the server
   cannot deliver it (safe to send again); a failure after it, with no reply, means nobody
   knows (dunning.handoff turns that into "outcome unknown", never into a resend).
2. A whole conversation has a deadline (EMAIL_HANDOFF_SECONDS), on top of the per-read
   EMAIL_TIMEOUT, so a server that answers a byte a minute cannot hold a run for ever.

Selected in settings for every smtp:// EMAIL_URL."""

import smtplib
import time

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend


class _Tracked:
    """Mixed into smtplib's classes: body_sent and a conversation deadline."""

    body_sent = False
    _data_sends = 0
    _deadline = None

    def connect(self, *args, **kwargs):
        self._deadline = time.monotonic() + settings.EMAIL_HANDOFF_SECONDS
        return super().connect(*args, **kwargs)

    def data(self, msg):
        self._data_sends = 1  # the next send after the DATA command is the body
        try:
            return super().data(msg)
        finally:
            self._data_sends = 0

    def send(self, s):
        self._check_deadline()
        if self._data_sends:
            self._data_sends += 1
            # Pessimistic: from the first byte of the body on, a failure is "unknown".
            self.body_sent = self._data_sends > 2
        return super().send(s)

    def getreply(self):
        self._check_deadline()
        return super().getreply()

    def _check_deadline(self):
        if self._deadline is None:
            return
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise smtplib.SMTPServerDisconnected(
                f"the mail server took longer than {settings.EMAIL_HANDOFF_SECONDS} s"
            )
        if self.sock is not None and self.timeout:
            self.sock.settimeout(min(self.timeout, left))


class TrackedSMTP(_Tracked, smtplib.SMTP):
    pass


class TrackedSMTPSSL(_Tracked, smtplib.SMTP_SSL):
    pass


class EmailBackend(DjangoSMTPBackend):
    @property
    def connection_class(self):
        return TrackedSMTPSSL if self.use_ssl else TrackedSMTP
