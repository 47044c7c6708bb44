"""The admin's webhook screens: endpoints, their delivery log, replay and enable."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import ADMIN, role_required

from .events import EventType
from .exceptions import UrlRefused, WebhookError
from .forms import EndpointForm
from .models import Delivery, Endpoint
from .selectors import deliveries_page, endpoints_for_list, missed_summary
from .services import (
    delivery_replay,
    endpoint_create,
    endpoint_enable,
    endpoint_rotate_secret,
    endpoint_update,
    events_count,
)

# The secret is shown once, on the page after it is made; the session carries it there.
SHOW_SECRET = "webhooks_show_secret"
# Re-enabling: also send the events missed while disabled, or start from now.
SEND_MISSED, SKIP_MISSED = "send", "skip"
MISSED_CHOICES = (SEND_MISSED, SKIP_MISSED)


@role_required(ADMIN)
@require_GET
def endpoint_list(request):
    endpoints = list(endpoints_for_list())
    context = {
        "endpoints": endpoints,
        "disabled": [e for e in endpoints if e.disabled_at is not None and not e.active],
        "event_types": EventType.choices,
    }
    return render(request, "webhooks/endpoint_list.html", context)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def endpoint_new(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = endpoint_create(actor=request.user, now=timezone.now(), **form.cleaned_data)
        except UrlRefused as error:
            form.add_error("url", str(error))
        except WebhookError as error:
            form.add_error(None, str(error))
        else:
            request.session[SHOW_SECRET] = endpoint.pk
            messages.success(request, "Endpoint added. Copy its signing secret now.")
            return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except UrlRefused as error:
            form.add_error("url", str(error))
        except WebhookError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


@role_required(ADMIN)
@require_GET
def endpoint_detail(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    show_secret = request.session.pop(SHOW_SECRET, None) == endpoint.pk
    context = {
        "endpoint": endpoint,
        "secret": endpoint.secret if show_secret else None,
        "page": deliveries_page(endpoint=endpoint, page=request.GET.get("page")),
        "missed": None if endpoint.active else missed_summary(endpoint=endpoint),
    }
    return render(request, "webhooks/endpoint_detail.html", context)


@role_required(ADMIN)
@require_POST
def endpoint_rotate(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    request.session[SHOW_SECRET] = endpoint.pk
    messages.success(
        request, "New signing secret made; the old one no longer signs. Copy it to the receiver."
    )
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@role_required(ADMIN)
@require_POST
def endpoint_enable_view(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    choice = request.POST.get("missed", "")
    undecided = choice not in MISSED_CHOICES and not endpoint.active
    if undecided and missed_summary(endpoint=endpoint).count:
        messages.error(
            request, "Choose whether to also send the events it missed, or to start from now."
        )
        return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    try:
        sent = endpoint_enable(
            actor=request.user,
            endpoint=endpoint,
            send_missed=choice == SEND_MISSED,
            now=timezone.now(),
        )
    except WebhookError as error:
        messages.error(request, str(error))
    else:
        missed = f" and the {events_count(sent)} it missed" if sent else ""
        messages.success(
            request, f"{endpoint.url} is enabled; waiting deliveries{missed} will be sent."
        )
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@role_required(ADMIN)
@require_POST
def delivery_replay_view(request, pk):
    delivery = get_object_or_404(Delivery.objects.select_related("endpoint"), pk=pk)
    try:
        delivery_replay(actor=request.user, delivery=delivery, now=timezone.now())
    except WebhookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The delivery will be sent again within a minute.")
    return redirect("webhooks:endpoint_detail", pk=delivery.endpoint_id)
