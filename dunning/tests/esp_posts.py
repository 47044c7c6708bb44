"""Delivery events as each ESP posts them to its tracking webhook, proved its own way.

The bodies follow each ESP's documented webhook payloads (and what anymail's parsers read
from them): Mailgun's JSON webhooks signed with HMAC-SHA256, Postmark's JSON with basic
auth, SendGrid's signed event webhook (ECDSA over timestamp + body), and Amazon SES
notifications delivered by SNS with basic auth."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field, replace

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .factories import MONDAY_10

AT = MONDAY_10 + dt.timedelta(minutes=5)
WEBHOOK_SECRET = "dunmore-esp:a-long-webhook-password-for-tests"
SENDER = "collections@example.com"
# What each kind of event is called by anymail, whatever the ESP calls it.
KINDS = ("delivered", "bounced", "complained")


def basic_auth(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@dataclass(frozen=True)
class Post:
    body: bytes
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


def _json(data) -> bytes:
    return json.dumps(data).encode()


def _with_auth(post: Post, credentials: str | None) -> Post:
    headers = {k: v for k, v in post.headers.items() if k != "Authorization"}
    if credentials:
        headers["Authorization"] = basic_auth(credentials)
    return replace(post, headers=headers)


class Mailgun:
    name = "mailgun"
    SIGNING_KEY = "mailgun-http-webhook-signing-key-for-tests"
    anymail = {"MAILGUN_API_KEY": "key-for-tests", "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}

    def esp_message_id(self, touch) -> str:
        return f"<20260316100000.{touch.pk}.{touch.ref[:12]}@mg.example.com>"

    def _signature(self, token: str, key: str = SIGNING_KEY) -> dict:
        timestamp = str(int(AT.timestamp()))
        digest = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
        return {"timestamp": timestamp, "token": token, "signature": digest.hexdigest()}

    def _token(self, n: int) -> str:
        return hashlib.sha256(f"token-{n}".encode()).hexdigest()[:50]

    def event_data(self, kind: str, touch, message_id: str | None = None) -> dict:
        message_id = (message_id or self.esp_message_id(touch)).strip("<>")
        data = {
            "id": f"CPgfbmQMTCKtHW6uIWtu{touch.pk:02d}",
            "timestamp": AT.timestamp(),
            "log-level": "info",
            "event": {"delivered": "delivered", "bounced": "failed"}.get(kind, kind),
            "recipient": touch.to_email,
            "recipient-domain": touch.to_email.rpartition("@")[2],
            "tags": ["dunning"],
            "user-variables": {"dunmore_ref": touch.ref},
            "envelope": {"transport": "smtp", "sender": SENDER, "targets": touch.to_email},
            "flags": {"is-routed": False, "is-authenticated": True, "is-test-mode": False},
            "message": {
                "headers": {
                    "to": touch.to_email,
                    "message-id": message_id,
                    "from": SENDER,
                    "subject": touch.subject,
                },
                "attachments": [],
                "size": 4321,
            },
        }
        if kind == "delivered":
            data["delivery-status"] = {
                "tls": True,
                "mx-host": "mx.example.com",
                "code": 250,
                "description": "",
                "session-seconds": 0.4,
                "message": "OK",
                "attempt-no": 1,
            }
        elif kind == "bounced":
            data.update({"log-level": "error", "severity": "permanent", "reason": "bounce"})
            data["delivery-status"] = {
                "mx-host": "mx.example.com",
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
                "attempt-no": 1,
            }
        elif kind == "complained":
            data["log-level"] = "warn"
        return data

    def signed(self, body: dict, n: int, key: str = SIGNING_KEY) -> Post:
        return Post(_json({"signature": self._signature(self._token(n), key), **body}))

    def event(self, kind: str, touch, n: int) -> Post:
        return self.signed({"event-data": self.event_data(kind, touch)}, n)

    def forged(self, post: Post) -> Post:
        body = json.loads(post.body)
        body["signature"] = self._signature(body["signature"]["token"], key="a-guessed-key")
        return replace(post, body=_json(body))

    def unsigned(self, post: Post) -> Post:
        body = json.loads(post.body)
        del body["signature"]
        return replace(post, body=_json(body))

    def malformed(self, touch) -> list[Post]:
        def with_data(**changes):
            return self.signed(
                {"event-data": {**self.event_data("delivered", touch), **changes}}, 9
            )

        return [
            self.signed({"event-data": "delivered"}, 9),
            self.signed({"event-data": {"recipient": touch.to_email}}, 9),
            with_data(timestamp="yesterday"),
            with_data(**{"user-variables": ["dunmore_ref", touch.ref]}),
            with_data(recipient={"email": touch.to_email}),
        ]


class Postmark:
    name = "postmark"
    anymail = {"POSTMARK_SERVER_TOKEN": "server-token-for-tests", "WEBHOOK_SECRET": WEBHOOK_SECRET}

    def esp_message_id(self, touch) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, touch.ref))

    def body(self, kind: str, touch, n: int) -> dict:
        common = {
            "MessageStream": "outbound",
            "MessageID": self.esp_message_id(touch),
            "ServerID": 23,
            "Tag": "dunning",
            "Metadata": {"dunmore_ref": touch.ref},
        }
        at = AT.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        if kind == "delivered":
            return {
                "RecordType": "Delivery",
                **common,
                "Recipient": touch.to_email,
                "DeliveredAt": at,
                "Details": "smtp;250 2.0.0 OK",
            }
        bounce = {
            **common,
            "ID": 4323372036854775000 + n,
            "Email": touch.to_email,
            "From": SENDER,
            "BouncedAt": at,
            "Subject": touch.subject,
            "DumpAvailable": True,
            "Inactive": True,
        }
        if kind == "bounced":
            return {
                "RecordType": "Bounce",
                "Type": "HardBounce",
                "TypeCode": 1,
                "Name": "Hard bounce",
                "Description": "The server was unable to deliver your message "
                "(ex: unknown user, mailbox not found).",
                "Details": "smtp;550 5.1.1 The email account that you tried to reach does "
                "not exist.",
                "CanActivate": True,
                **bounce,
            }
        return {
            "RecordType": "SpamComplaint",
            "Type": "SpamComplaint",
            "TypeCode": 512,
            "Name": "Spam complaint",
            "Description": "The subscriber explicitly marked this email as spam.",
            "Details": "Test spam complaint details",
            "CanActivate": False,
            **bounce,
        }

    def event(self, kind: str, touch, n: int) -> Post:
        return _with_auth(Post(_json(self.body(kind, touch, n))), WEBHOOK_SECRET)

    def forged(self, post: Post) -> Post:
        return _with_auth(post, "dunmore-esp:a-guessed-password")

    def unsigned(self, post: Post) -> Post:
        return _with_auth(post, None)

    def malformed(self, touch) -> list[Post]:
        delivered = self.body("delivered", touch, 9)
        bodies = [
            b"{not json",
            _json([delivered]),
            _json({**delivered, "DeliveredAt": 1773655500}),
            _json({**delivered, "Metadata": "dunmore_ref"}),
            _json({**delivered, "Recipient": {"Email": touch.to_email}}),
            _json({**delivered, "Recipient": "payables\u0000@example.com"}),
        ]
        return [_with_auth(Post(body), WEBHOOK_SECRET) for body in bodies]


class SendGrid:
    name = "sendgrid"

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # As SendGrid shows it: the base64 of the DER public key, without PEM armour.
        self.anymail = {
            "SENDGRID_API_KEY": "SG.key-for-tests",
            "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": base64.b64encode(public).decode(),
        }

    def esp_message_id(self, touch) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_OID, touch.ref))

    def record(self, kind: str, touch, n: int) -> dict:
        record = {
            "email": touch.to_email,
            "timestamp": int(AT.timestamp()),
            "smtp-id": f"<{touch.ref[:14]}.dfd.64b469@ismtpd-555>",
            "event": {"bounced": "bounce", "complained": "spamreport"}.get(kind, kind),
            "category": ["dunning"],
            "sg_event_id": base64.b64encode(f"{kind}-event-{n}".encode()).decode(),
            "sg_message_id": f"14c5d75ce93.dfd.64b469.filter0001.16648.{n:08d}.0",
            # custom_args come back at the top level of each event
            "anymail_id": self.esp_message_id(touch),
            "dunmore_ref": touch.ref,
        }
        if kind == "delivered":
            record.update(response="250 OK", tls=1, ip="168.1.1.1")
        elif kind == "bounced":
            record.update(
                reason="550 5.1.1 The email account that you tried to reach does not exist.",
                status="5.1.1",
                type="bounce",
                ip="168.1.1.1",
            )
        return record

    def signed(self, body: bytes, key=None) -> Post:
        timestamp = str(int(AT.timestamp()))
        signature = (key or self.key).sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return Post(
            body,
            headers={
                "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            },
        )

    def event(self, kind: str, touch, n: int) -> Post:
        return self.signed(_json([self.record(kind, touch, n)]))

    def forged(self, post: Post) -> Post:
        return self.signed(post.body, key=ec.generate_private_key(ec.SECP256R1()))

    def unsigned(self, post: Post) -> Post:
        return replace(post, headers={})

    def malformed(self, touch) -> list[Post]:
        delivered = self.record("delivered", touch, 9)
        bodies = [
            b"[{not json",
            _json(delivered),  # one event, not a list of them
            _json([{"email": touch.to_email, "timestamp": delivered["timestamp"]}]),
            _json([{**delivered, "timestamp": "soon"}]),
            _json([{**delivered, "email": [touch.to_email]}]),
        ]
        return [self.signed(body) for body in bodies]


class AmazonSES:
    name = "amazon_ses"
    TOPIC = "arn:aws:sns:eu-west-1:123456789012:dunmore-ses-events"
    anymail = {
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": "eu-west-1"},
    }

    def esp_message_id(self, touch) -> str:
        return f"0102018e4a1b2c3d-{uuid.uuid5(uuid.NAMESPACE_DNS, touch.ref)}-000000"

    def ses_event(self, kind: str, touch) -> dict:
        at = AT.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        mail = {
            "timestamp": at,
            "source": SENDER,
            "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/example.com",
            "sendingAccountId": "123456789012",
            "messageId": self.esp_message_id(touch),
            "destination": [touch.to_email],
            "headersTruncated": False,
            "headers": [
                {"name": "From", "value": SENDER},
                {"name": "To", "value": touch.to_email},
                {"name": "Subject", "value": touch.subject},
                {"name": "X-Metadata", "value": json.dumps({"dunmore_ref": touch.ref})},
                {"name": "X-Tag", "value": "dunning"},
            ],
            "commonHeaders": {"from": [SENDER], "to": [touch.to_email], "subject": touch.subject},
            "tags": {"ses:configuration-set": ["dunmore"]},
        }
        if kind == "delivered":
            return {
                "eventType": "Delivery",
                "mail": mail,
                "delivery": {
                    "timestamp": at,
                    "processingTimeMillis": 546,
                    "recipients": [touch.to_email],
                    "smtpResponse": "250 2.6.0 Message received",
                    "reportingMTA": "a8-70.smtp-out.amazonses.com",
                },
            }
        if kind == "bounced":
            return {
                "eventType": "Bounce",
                "mail": mail,
                "bounce": {
                    "bounceType": "Permanent",
                    "bounceSubType": "General",
                    "bouncedRecipients": [
                        {
                            "emailAddress": touch.to_email,
                            "action": "failed",
                            "status": "5.1.1",
                            "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                        }
                    ],
                    "timestamp": at,
                    "feedbackId": "0102018e4a1b2c3d-feedback-000000",
                    "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
                },
            }
        return {
            "eventType": "Complaint",
            "mail": mail,
            "complaint": {
                "complainedRecipients": [{"emailAddress": touch.to_email}],
                "timestamp": at,
                "feedbackId": "0102018e4a1b2c3d-complaint-000000",
                "userAgent": "Mozilla/5.0",
                "complaintFeedbackType": "abuse",
                "arrivalDate": at,
            },
        }

    def notification(self, message: str, n: int) -> Post:
        message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sns-{n}"))
        body = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": self.TOPIC,
            "Subject": "Amazon SES Email Event Notification",
            "Message": message,
            "Timestamp": AT.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "SignatureVersion": "1",
            "Signature": base64.b64encode(b"not verified by anymail").decode(),
            "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/"
            "SimpleNotificationService-0000000000000000000000.pem",
            "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
        }
        headers = {
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": self.TOPIC,
            "Authorization": basic_auth(WEBHOOK_SECRET),
        }
        # SNS posts JSON labelled as plain text.
        return Post(_json(body), headers=headers, content_type="text/plain; charset=UTF-8")

    def event(self, kind: str, touch, n: int) -> Post:
        return self.notification(json.dumps(self.ses_event(kind, touch)), n)

    def forged(self, post: Post) -> Post:
        return _with_auth(post, "dunmore-esp:a-guessed-password")

    def unsigned(self, post: Post) -> Post:
        return _with_auth(post, None)

    def malformed(self, touch) -> list[Post]:
        bounce = self.ses_event("bounced", touch)
        del bounce["bounce"]["bouncedRecipients"]
        valid = self.event("delivered", touch, 9)
        return [
            replace(valid, body=b"{not json"),
            replace(valid, body=b"[]"),
            self.notification("not an SES event", 9),
            self.notification(json.dumps(bounce), 9),
        ]


ESPS = [Mailgun(), Postmark(), SendGrid(), AmazonSES()]
