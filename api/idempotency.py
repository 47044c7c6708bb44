"""Idempotency-Key on POST: the first answer is stored for 24 hours and replayed to a retry
with the same key; the same key with a different request is refused (422)."""

import hashlib
import json
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from .errors import Conflict, Unprocessable
from .models import IdempotentRequest

KEPT_FOR = timedelta(hours=24)
HEADER = "Idempotency-Key"
# What PostgreSQL's jsonb cannot hold: NUL, and a surrogate without its pair. An error may
# quote such a value back from the request (an unknown field's name).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(data):
    """The answer with each unstorable character as U+FFFD, in keys and values alike."""
    if isinstance(data, str):
        return UNSTORABLE.sub("\ufffd", data)
    if isinstance(data, dict):
        return {storable(key): storable(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [storable(value) for value in data]
    return data


def request_digest(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def once(request, run) -> Response:
    """run() unless this token already sent this key; then the stored answer."""
    key = request.headers.get(HEADER)
    if not key:
        return run()
    token, digest = request.auth, request_digest(request)
    try:
        with transaction.atomic():
            IdempotentRequest.objects.filter(
                token=token, created_at__lt=timezone.now() - KEPT_FOR
            ).delete()
            stored = IdempotentRequest.objects.filter(token=token, key=key[:255]).first()
            if stored is not None:
                if stored.request_hash != digest:
                    raise Unprocessable()
                return Response(
                    stored.body, status=stored.status, headers={"Idempotent-Replayed": "true"}
                )
            response = run()
            # The first answer is sent as it is kept, so the retry's answer is the same.
            response.data = storable(response.data)
            IdempotentRequest.objects.create(
                token=token,
                key=key[:255],
                request_hash=digest,
                status=response.status_code,
                body=response.data,
            )
            return response
    except IntegrityError as error:  # the same key raced in at the same moment
        raise Conflict() from error
