import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .health import health_check
from .metrics import registry_for


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """For load balancers, uptime monitors and the smoke test: 200 when every check passes,
    503 when one fails. The JSON is documented in the README; keep it stable."""
    report = health_check(now=timezone.now())
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@login_not_required
@never_cache
def metrics(request):
    """For Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`. Without the setting,
    or without the right token, the answer is the plain 404 of an address that does not
    exist: nobody learns that it does."""
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        raise Http404
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Http404
    if request.method != "GET":
        raise Http404
    body = generate_latest(registry_for(now=timezone.now()))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
