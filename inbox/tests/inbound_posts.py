"""One reply as each ESP posts it to its inbound webhook, proved its own way.

The shapes follow the ESPs' documented inbound payloads as anymail's parsers (and anymail's
own tests) read them: Mailgun's "fully parsed" route forward, a multipart form signed with
HMAC-SHA256 of timestamp + token under the webhook signing key; SendGrid's Inbound Parse
multipart form (SendGrid does not sign it: basic auth); Postmark's inbound JSON with basic
auth; Amazon SES's receipt notification delivered by SNS, the raw MIME inline, with basic
auth (anymail does not check SNS's own signature, so the basic auth is the proof)."""

import base64
import hashlib
import hmac
import io
import json
from dataclasses import dataclass, field
from email.message import EmailMessage

from django.test.client import BOUNDARY, encode_multipart

WEBHOOK_SECRET = "dunmore-esp:a-long-webhook-password-for-tests"
SENDER = "ann@buyer.com"
TEXT = (
    "We already paid this on Friday, remittance attached.\n\n"
    "On Mon, 2 Mar 2026, Collections <c@example.com> wrote:\n> Please pay\n"
)
SUBJECT = "Re: Invoice INV-1 is overdue"
MESSAGE_ID = "<CAE1234@mail.buyer.com>"
DATE = "Mon, 2 Mar 2026 10:00:00 +0000"
# Built here, not Django's MULTIPART: the test client would encode the body again.
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass
class Reply:
    to: str
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, type, content
    text: str = TEXT

    def mime(self) -> EmailMessage:
        message = EmailMessage()
        message["From"] = f"Ann Buyer <{SENDER}>"
        message["To"] = self.to
        message["Subject"] = SUBJECT
        message["Date"] = DATE
        message["Message-ID"] = MESSAGE_ID
        message.set_content(self.text)
        for name, kind, content in self.files:
            maintype, subtype = kind.split("/")
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
        return message


@dataclass(frozen=True)
class Post:
    body: bytes
    content_type: str
    headers: dict


def basic_auth(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _upload(name: str, kind: str, content: bytes):
    upload = io.BytesIO(content)
    upload.name = name
    upload.content_type = kind
    return upload


class Mailgun:
    name = "mailgun"
    SIGNING_KEY = "mailgun-http-webhook-signing-key-for-tests"
    anymail = {"MAILGUN_API_KEY": "key-for-tests", "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}

    def post(self, reply: Reply, *, forged: bool = False) -> Post:
        headers = [
            ["X-Mailgun-Incoming", "Yes"],
            ["X-Envelope-From", f"<{SENDER}>"],
            ["Mime-Version", "1.0"],
            ["From", f"Ann Buyer <{SENDER}>"],
            ["Date", DATE],
            ["Message-Id", MESSAGE_ID],
            ["Subject", SUBJECT],
            ["To", reply.to],
            ["Content-Type", 'multipart/mixed; boundary="089e0825ccf874a0bb055b4f7e23"'],
        ]
        timestamp, token = "1772445600", "06c96bafc3f42a66b9edd546347a2fe18dc23461fe80dc52f0"
        key = "a-guessed-key" if forged else self.SIGNING_KEY
        signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
        data = {
            "recipient": reply.to,
            "sender": SENDER,
            "from": f"Ann Buyer <{SENDER}>",
            "subject": SUBJECT,
            "message-headers": json.dumps(headers),
            "body-plain": reply.text,
            "stripped-text": reply.text.split("\n\n")[0],
            "timestamp": timestamp,
            "token": token,
            "signature": signature.hexdigest(),
            "attachment-count": str(len(reply.files)),
        }
        for n, (name, kind, content) in enumerate(reply.files, start=1):
            data[f"attachment-{n}"] = _upload(name, kind, content)
        return Post(encode_multipart(BOUNDARY, data), MULTIPART, {})


class SendGrid:
    name = "sendgrid"
    anymail = {"SENDGRID_API_KEY": "key-for-tests", "WEBHOOK_SECRET": WEBHOOK_SECRET}

    def post(self, reply: Reply, *, forged: bool = False) -> Post:
        headers = (
            "MIME-Version: 1.0\n"
            f"From: Ann Buyer <{SENDER}>\n"
            f"Date: {DATE}\n"
            f"Message-ID: {MESSAGE_ID}\n"
            f"Subject: {SUBJECT}\n"
            f"To: {reply.to}\n"
            'Content-Type: multipart/mixed; boundary="94eb2c115edcf35387055b61f849"\n'
        )
        data = {
            "headers": headers,
            "from": f"Ann Buyer <{SENDER}>",
            "to": reply.to,
            "subject": SUBJECT,
            "text": reply.text,
            "charsets": json.dumps(
                {"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": "UTF-8"}
            ),
            "envelope": json.dumps({"to": [reply.to], "from": SENDER}),
            "sender_ip": "10.10.1.71",
            "SPF": "pass",
            "spam_score": "0.1",
            "attachments": str(len(reply.files)),
            "attachment-info": json.dumps(
                {
                    f"attachment{n}": {"filename": name, "type": kind}
                    for n, (name, kind, _) in enumerate(reply.files, start=1)
                }
            ),
        }
        for n, (name, kind, content) in enumerate(reply.files, start=1):
            data[f"attachment{n}"] = _upload(name, kind, content)
        auth = "dunmore-esp:a-guessed-password" if forged else WEBHOOK_SECRET
        return Post(
            encode_multipart(BOUNDARY, data), MULTIPART, {"Authorization": basic_auth(auth)}
        )


class Postmark:
    name = "postmark"
    anymail = {"POSTMARK_SERVER_TOKEN": "server-token-for-tests", "WEBHOOK_SECRET": WEBHOOK_SECRET}

    def post(self, reply: Reply, *, forged: bool = False) -> Post:
        local = reply.to.split("@")[0]
        body = {
            "FromName": "Ann Buyer",
            "MessageStream": "inbound",
            "From": SENDER,
            "FromFull": {"Email": SENDER, "Name": "Ann Buyer", "MailboxHash": ""},
            "To": reply.to,
            "ToFull": [{"Email": reply.to, "Name": "", "MailboxHash": local.partition("+")[2]}],
            "Cc": "",
            "CcFull": [],
            "Bcc": "",
            "BccFull": [],
            "OriginalRecipient": reply.to,
            "Subject": SUBJECT,
            "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
            "ReplyTo": "",
            "MailboxHash": local.partition("+")[2],
            "Date": DATE,
            "TextBody": reply.text,
            "HtmlBody": "",
            "StrippedTextReply": reply.text.split("\n\n")[0],
            "Tag": "",
            "Headers": [
                {"Name": "Return-Path", "Value": f"<{SENDER}>"},
                {"Name": "X-Spam-Status", "Value": "No"},
                {"Name": "Message-ID", "Value": MESSAGE_ID},
                {"Name": "MIME-Version", "Value": "1.0"},
            ],
            "Attachments": [
                {
                    "Name": name,
                    "Content": base64.b64encode(content).decode(),
                    "ContentType": kind,
                    "ContentLength": len(content),
                }
                for name, kind, content in reply.files
            ],
        }
        auth = "dunmore-esp:a-guessed-password" if forged else WEBHOOK_SECRET
        return Post(
            json.dumps(body).encode(), "application/json", {"Authorization": basic_auth(auth)}
        )


class AmazonSES:
    name = "amazon_ses"
    anymail = {"WEBHOOK_SECRET": WEBHOOK_SECRET}

    def post(self, reply: Reply, *, forged: bool = False) -> Post:
        ses_event = {
            "notificationType": "Received",
            "mail": {
                "timestamp": "2026-03-02T10:00:01.636Z",
                "source": SENDER,
                "messageId": "jili9m351il3gkburn7o2f0u6788stij94c8ld01",
                "destination": [reply.to],
                "headersTruncated": False,
                "headers": [
                    {"name": "From", "value": f"Ann Buyer <{SENDER}>"},
                    {"name": "Date", "value": DATE},
                    {"name": "Message-ID", "value": MESSAGE_ID},
                    {"name": "Subject", "value": SUBJECT},
                    {"name": "To", "value": reply.to},
                ],
                "commonHeaders": {
                    "returnPath": SENDER,
                    "from": [f"Ann Buyer <{SENDER}>"],
                    "date": DATE,
                    "to": [reply.to],
                    "messageId": MESSAGE_ID,
                    "subject": SUBJECT,
                },
            },
            "receipt": {
                "timestamp": "2026-03-02T10:00:01.636Z",
                "processingTimeMillis": 357,
                "recipients": [reply.to],
                "spamVerdict": {"status": "PASS"},
                "virusVerdict": {"status": "PASS"},
                "spfVerdict": {"status": "PASS"},
                "dkimVerdict": {"status": "PASS"},
                "dmarcVerdict": {"status": "PASS"},
                "action": {
                    "type": "SNS",
                    "topicArn": "arn:aws:sns:us-east-1:111111111111:SES_Inbound",
                    "encoding": "BASE64",
                },
            },
            "content": base64.b64encode(reply.mime().as_bytes()).decode(),
        }
        sns = {
            "Type": "Notification",
            "MessageId": "8f6dee70-c885-558a-be7d-bd48bbf5335e",
            "TopicArn": "arn:aws:sns:us-east-1:111111111111:SES_Inbound",
            "Subject": "Amazon SES Email Receipt Notification",
            "Message": json.dumps(ses_event),
            "Timestamp": "2026-03-02T10:00:02.516Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE_SIGNATURE==",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
        auth = "dunmore-esp:a-guessed-password" if forged else WEBHOOK_SECRET
        return Post(
            json.dumps(sns).encode(),
            "text/plain; charset=UTF-8",  # SNS posts its JSON as text/plain
            {
                "Authorization": basic_auth(auth),
                "x-amz-sns-message-id": sns["MessageId"],
                "x-amz-sns-message-type": sns["Type"],
            },
        )


ESPS = [Mailgun(), SendGrid(), Postmark(), AmazonSES()]
