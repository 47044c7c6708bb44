"""A request id for every request, and one log line when it is answered."""

import logging
import re
import time
import uuid

from django.utils.functional import empty

from .logs import request_id

logger = logging.getLogger("ops.requests")

HEADER = "X-Request-ID"
# A proxy's id is kept if it looks like one (nginx's $request_id, a UUID, a trace id);
# anything else (too long, spaces, quotes, control characters) is replaced, not trusted.
SANE = re.compile(r"[A-Za-z0-9._:;=+/-]{1,128}")


class RequestLogMiddleware:
    """First in MIDDLEWARE, so its line covers redirects, refusals and errors alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        rid = incoming if SANE.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = rid
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = rid
            # A load balancer asks every few seconds; only a failing answer is worth a line.
            if not (request.path_info == "/healthz" and response.status_code == 200):
                logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "user_id": _user_id(request),
                    },
                )
            return response
        finally:
            request_id.reset(token)


def _user_id(request) -> int | None:
    """The signed-in user's id if the request already looked them up: loading the user
    only to log it would cost a query on pages that never needed one."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None
