"""Idempotency-Key on POST: the first answer is stored for 24 hours and replayed to a retry
with the same key; the same key with a different request is refused (422)."""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from .errors import Conflict, Unprocessable
from .models import IdempotentRequest

KEPT_FOR = timedelta(hours=24)
HEADER = "Idempotency-Key"


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
