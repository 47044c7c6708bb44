"""The customer page: where a collector works one customer (the ledger's figures, the
engine's next step, the timeline) and every action on them, in place.

Each action is one URL. Asked by htmx, its GET answers with the form alone, for the page's
action area, and its POST answers with the form and its errors, or on success with
HX-Redirect to the page, so the header, the timeline and the queue all show the change.
Without JavaScript the same URLs answer with the whole page, the form open in the action
area, and a successful POST redirects (POST-redirect-GET).

Anyone with a role reads any customer's page; the actions, their forms included, are for
those who may change the customer (accounts.roles), and refused (403) to the others."""

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.roles import (
    ADMIN,
    COLLECTOR,
    has_role,
    read_only_notice,
    require_change,
    role_required,
)
from dunning import services
from dunning.calls import call_log
from dunning.exceptions import DunningError
from dunning.forms import CustomerPolicyForm
from dunning.models import HoldStatus, PromiseToPay, Task, TaskKind, TaskStatus, TouchStatus
from dunning.selectors import settings_load
from dunning.sending import next_step_preview, next_step_send_now
from invoices.dates import format_day
from invoices.exceptions import LedgerError
from invoices.models import Customer
from invoices.services import customer_note_add
from invoices.views import wants_partial

from .customer_selectors import customer_timeline, customer_workspace, workspace_customers
from .forms import (
    AcknowledgementForm,
    CallOutcomeForm,
    DisputeOpenForm,
    DisputeResolveForm,
    DocumentsRequestForm,
    HoldForm,
    NoteForm,
    PlanForm,
    PromiseForm,
)

# Keyboard shortcuts (static/js/customer.js reads them from data-shortcut attributes).
ACTIONS = [
    ("c", "customer_call", "Log a call"),
    ("p", "customer_promise", "Promise"),
    ("d", "customer_dispute", "Dispute"),
    ("l", "customer_plan", "Payment plan"),
    ("n", "customer_note", "Note"),
    ("h", "customer_hold", "Hold"),
    ("a", "customer_acknowledgement", "Acknowledgement"),
    ("r", "customer_documents_request", "Documents asked for"),
    ("s", "customer_send", "Send next step"),
    ("g", "customer_move", "Move on the ladder"),
    ("m", "customer_payment", "Record payment"),
    ("k", "customer_credit_note", "Credit note"),
]


def _posted(request):
    # An empty POST is still a submission: bind it so its missing fields are reported.
    return request.POST if request.method == "POST" else None


def _customer(pk: int) -> Customer:
    return get_object_or_404(workspace_customers(), pk=pk)


def _customer_to_change(request, pk: int) -> Customer:
    customer = _customer(pk)
    require_change(request.user, customer)
    return customer


def _page(request, customer: Customer, *, action: str = "", extra=None):
    now = timezone.now()
    today = timezone.localdate()
    chosen = getattr(customer, "dunning", None)
    context = {
        "customer": customer,
        "view": customer_workspace(
            customer,
            today=today,
            now=now,
            kind=request.GET.get("kind"),
            before=request.GET.get("before"),
        ),
        "as_of": today,
        "now": now,
        "actions": ACTIONS,
        "action_template": action,
        "read_only": read_only_notice(request.user, customer),
        "policy_form": CustomerPolicyForm(initial={"policy": chosen.policy if chosen else None})
        if has_role(request.user, ADMIN)
        else None,
        **(extra or {}),
    }
    return render(request, "workspace/customer.html", context)


def _action(request, customer: Customer, template: str, context: dict):
    """The action's form: alone for htmx, else inside the whole page."""
    context = {"action_url": request.path, **context}
    if wants_partial(request):
        response = render(request, template, {"customer": customer, **context})
    else:
        response = _page(request, customer, action=template, extra=context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _done(request, customer: Customer, text: str, level: int = messages.SUCCESS):
    messages.add_message(request, level, text)
    url = reverse("customer_detail", args=[customer.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@role_required(COLLECTOR)
@require_GET
def customer_detail(request, pk: int):
    customer = _customer(pk)
    if wants_partial(request):
        # The timeline's filter and "older" links swap the timeline alone.
        response = render(
            request,
            "workspace/_customer_timeline.html",
            {
                "customer": customer,
                "timeline": customer_timeline(
                    customer, kind=request.GET.get("kind"), before=request.GET.get("before")
                ),
            },
        )
    else:
        response = _page(request, customer)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- calls ----------------------------------------------------------------------------------


def _open_call(customer: Customer) -> Task | None:
    return (
        Task.objects.filter(customer=customer, kind=TaskKind.CALL, status=TaskStatus.OPEN)
        .order_by("due_at", "id")
        .first()
    )


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_call(request, pk: int):
    """Log a call; the outcome's follow-up (promise, dispute, retry...) comes with it. The
    customer's earliest open call task, if any, is the call being logged."""
    customer = _customer_to_change(request, pk)
    task = _open_call(customer)
    form = CallOutcomeForm(_posted(request), customer=customer)
    if form.is_valid():
        try:
            logged = call_log(
                actor=request.user,
                customer=customer,
                at=timezone.now(),
                task=task,
                **form.call_log_values(),
            )
        except DunningError as error:
            form.add_error(None, str(error))
        else:
            follow_ups = "; ".join(logged.follow_ups)
            return _done(
                request,
                customer,
                f"Call logged: {logged.task.get_outcome_display()}"
                + (f"; {follow_ups}." if follow_ups else "."),
            )
    return _action(request, customer, "workspace/_action_call.html", {"form": form, "task": task})


# --- promises -------------------------------------------------------------------------------


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_promise(request, pk: int):
    customer = _customer_to_change(request, pk)
    today = timezone.localdate()
    latest = today + dt.timedelta(days=settings_load().promise_max_days)
    # The inbox opens the form filled in with what a reply promised, for the collector to check.
    prefill = {
        name: request.GET[name] for name in ("promised_for", "amount") if name in request.GET
    }
    form = PromiseForm(
        _posted(request), customer=customer, today=today, latest=latest, initial=prefill
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            promise = services.promise_record(
                actor=request.user,
                customer=customer,
                amount=data["amount"],
                promised_for=data["promised_for"],
                invoices=list(data["invoices"]),
                note=data["note"],
                made_on=today,
            )
        except DunningError as error:
            form.add_error(None, str(error))
        else:
            return _done(
                request,
                customer,
                f"Promise recorded: chasing of "
                f"{', '.join(promise.invoices.values_list('number', flat=True))} pauses until "
                f"{format_day(promise.holds_until)}.",
            )
    return _action(request, customer, "workspace/_action_promise.html", {"form": form})


@role_required(COLLECTOR)
@require_POST
def customer_promise_cancel(request, pk: int):
    customer = _customer_to_change(request, pk)
    promise = PromiseToPay.objects.filter(
        customer=customer, status=HoldStatus.OPEN, pk=request.POST.get("promise") or 0
    ).first()
    if promise is None:
        return _done(request, customer, "That promise is no longer open.", messages.INFO)
    try:
        services.promise_cancel(actor=request.user, promise=promise, on=timezone.localdate())
    except DunningError as error:
        return _done(request, customer, str(error), messages.ERROR)
    return _done(request, customer, "Promise cancelled: chasing resumes.")


# --- disputes -------------------------------------------------------------------------------


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_dispute(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = DisputeOpenForm(
        _posted(request), customer=customer, initial={"invoice": request.GET.get("invoice")}
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            dispute = services.dispute_open_queued(
                actor=request.user,
                invoice=data["invoice"],
                reason=data["reason"],
                opened_on=timezone.localdate(),
                detail=data["detail"],
                amount=data["amount"],
                owner=request.user,
            )
        except LedgerError as error:
            form.add_error(None, str(error))
        else:
            return _done(
                request,
                customer,
                f"Dispute opened on {dispute.invoice.number}: that invoice is not chased "
                "until it is resolved.",
            )
    return _action(request, customer, "workspace/_action_dispute.html", {"form": form})


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_dispute_resolve(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = DisputeResolveForm(
        _posted(request), customer=customer, initial={"dispute": request.GET.get("dispute")}
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            dispute = services.dispute_resolve_queued(
                actor=request.user,
                dispute=data["dispute"],
                outcome=data["outcome"],
                resolved_on=timezone.localdate(),
                note=data["note"],
                credit_amount=data["credit_amount"],
            )
        except LedgerError as error:
            form.add_error(None, str(error))
        else:
            return _done(
                request,
                customer,
                f"Dispute on {dispute.invoice.number} {dispute.get_status_display().lower()}.",
            )
    return _action(request, customer, "workspace/_action_dispute_resolve.html", {"form": form})


# --- payment plans --------------------------------------------------------------------------


def _plan_form(request, customer: Customer, data):
    today = timezone.localdate()
    entry = getattr(customer, "queue_entry", None)
    initial = {"first_date": today, "count": 3, "every": "month"}
    if entry is not None and entry.open_total > entry.disputed_total:
        initial["amount"] = entry.open_total - entry.disputed_total
    return PlanForm(data, today=today, initial=initial)


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_plan(request, pk: int):
    """Without JavaScript in two steps: a POST without `confirm` shows the schedule, one
    with it agrees the plan. With htmx the schedule follows the fields as they change."""
    customer = _customer_to_change(request, pk)
    form = _plan_form(request, customer, _posted(request))
    schedule = None
    if form.is_valid():
        schedule = form.schedule()
        if "confirm" in request.POST:
            try:
                services.plan_create(
                    actor=request.user,
                    customer=customer,
                    instalments=schedule,
                    agreed_on=timezone.localdate(),
                    note=form.cleaned_data["note"],
                )
            except DunningError as error:
                form.add_error(None, str(error))
            else:
                return _done(
                    request, customer, f"Payment plan of {len(schedule)} instalments set up."
                )
    elif not form.is_bound:
        initial = PlanForm(form.initial, today=form.today)
        schedule = initial.schedule() if initial.is_valid() else None
    return _action(
        request, customer, "workspace/_action_plan.html", {"form": form, "schedule": schedule}
    )


@role_required(COLLECTOR)
@require_GET
def customer_plan_preview(request, pk: int):
    """The schedule the plan form's fields make, for its live preview."""
    customer = _customer_to_change(request, pk)
    form = PlanForm(request.GET, today=timezone.localdate())
    return render(
        request,
        "workspace/_action_plan_schedule.html",
        {
            "customer": customer,
            "form": form,
            "schedule": form.schedule() if form.is_valid() else None,
        },
    )


# --- notes and holds ------------------------------------------------------------------------


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_note(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = NoteForm(_posted(request))
    if form.is_valid():
        try:
            customer_note_add(actor=request.user, customer=customer, text=form.cleaned_data["text"])
        except LedgerError as error:
            form.add_error("text", str(error))
        else:
            return _done(request, customer, "Note added to the timeline.")
    return _action(request, customer, "workspace/_action_note.html", {"form": form})


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_hold(request, pk: int):
    customer = _customer_to_change(request, pk)
    initial = {"reason": customer.hold_reason, "until": customer.hold_until}
    form = HoldForm(_posted(request), today=timezone.localdate(), initial=initial)
    if form.is_valid():
        try:
            services.hold_set(
                actor=request.user,
                customer=customer,
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
            )
        except DunningError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, customer, "Chasing is on hold.")
    return _action(request, customer, "workspace/_action_hold.html", {"form": form})


@role_required(COLLECTOR)
@require_POST
def customer_hold_release(request, pk: int):
    customer = _customer_to_change(request, pk)
    if services.hold_release(actor=request.user, customer=customer):
        return _done(request, customer, "Hold released: chasing resumes.")
    return _done(request, customer, f"{customer.name} was not on hold.", messages.INFO)


# --- written acknowledgements ----------------------------------------------------------------


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_acknowledgement(request, pk: int):
    """Record that the customer acknowledged the debt in writing: where the law says so, it
    starts the limitation period again."""
    customer = _customer_to_change(request, pk)
    today = timezone.localdate()
    form = AcknowledgementForm(
        _posted(request), customer=customer, today=today, initial={"acknowledged_on": today}
    )
    if form.is_valid():
        data = form.cleaned_data
        invoices = list(data["invoices"])
        try:
            services.acknowledgement_record(
                actor=request.user,
                customer=customer,
                acknowledged_on=data["acknowledged_on"],
                invoices=invoices,
                note=data["note"],
                today=today,
            )
        except DunningError as error:
            form.add_error(None, str(error))
        else:
            covers = ", ".join(inv.number for inv in invoices) or "the whole account"
            return _done(
                request,
                customer,
                f"Written acknowledgement of {format_day(data['acknowledged_on'])} recorded "
                f"for {covers}.",
            )
    return _action(request, customer, "workspace/_action_acknowledgement.html", {"form": form})


# --- a reply to a Letter of Claim asking for documents ---------------------------------------


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_documents_request(request, pk: int):
    """Record that they replied asking for documents: after a Letter of Claim, a referral
    then waits 30 days from their reply (Pre-Action Protocol for Debt Claims)."""
    customer = _customer_to_change(request, pk)
    today = timezone.localdate()
    form = DocumentsRequestForm(_posted(request), today=today, initial={"requested_on": today})
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.documents_request_record(
                actor=request.user,
                customer=customer,
                requested_on=data["requested_on"],
                note=data["note"],
                today=today,
            )
        except DunningError as error:
            form.add_error(None, str(error))
        else:
            return _done(
                request,
                customer,
                f"Their reply of {format_day(data['requested_on'])} asking for documents is "
                "recorded. Send them what they asked for.",
            )
    return _action(request, customer, "workspace/_action_documents_request.html", {"form": form})


# --- the next step, now ---------------------------------------------------------------------


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_send(request, pk: int):
    """GET previews the next step as it would go out now; POST (the confirm button) sends."""
    customer = _customer_to_change(request, pk)
    error = ""
    if request.method == "POST":
        try:
            touch = next_step_send_now(actor=request.user, customer=customer, as_of=timezone.now())
        except DunningError as refused:
            error = str(refused)
        else:
            name = touch.step.name if touch.step_id else "The next step"
            if touch.status in (TouchStatus.SENT, TouchStatus.DELIVERED, TouchStatus.DONE):
                return _done(request, customer, f"{name} sent.")
            return _done(
                request,
                customer,
                f"{name} was recorded but not sent ({touch.get_status_display().lower()})"
                + (f": {touch.last_error}" if touch.last_error else "."),
                messages.WARNING,
            )
    preview = next_step_preview(customer=customer, as_of=timezone.now())
    return _action(
        request,
        customer,
        "workspace/_action_send.html",
        {
            "preview": preview,
            "error": error,
            "entry": getattr(customer, "queue_entry", None),
            "now": timezone.now(),
        },
    )
