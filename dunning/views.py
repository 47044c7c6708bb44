"""The dunning screens: policies and settings (admins), the customer page's "next step" panel
and its hold forms, the collector's calls, and the managers' dry-run preview. Views bind a
form, call one service and redirect; domain errors come back as form errors."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, Max, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import ADMIN, COLLECTOR, MANAGER, has_role, role_required
from invoices.models import Customer, Invoice, InvoiceStatus

from . import services
from .calendar import zone
from .engine import plan_customer
from .exceptions import DunningError
from .facts import CustomerPlan
from .forms import (
    CallFilterForm,
    CallOutcomeForm,
    CustomerPolicyForm,
    DunningSettingsForm,
    HoldForm,
    PlanForm,
    PolicyCopyForm,
    PolicyInterestForm,
    PolicyVersionNoteForm,
    PreviewFilterForm,
    PromiseForm,
    StepFormSet,
)
from .models import (
    Chase,
    ChaseStatus,
    CustomerPolicy,
    DunningSettings,
    HoldStatus,
    PaymentPlan,
    PlanStatus,
    Policy,
    PromiseToPay,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
)
from .policy_services import (
    PolicyError,
    chases_move_to_version,
    chases_to_move,
    customer_policy_set,
    dunning_settings_update,
    policy_copy,
    policy_save_version,
    policy_set_default,
    policy_set_interest,
    policy_version_diff,
    version_steps,
)
from .selectors import Steps, customers_to_chase, facts_load


def _posted(request):
    # An empty POST is still a submission: bind it so its missing fields are reported.
    return request.POST if request.method == "POST" else None


# --- policies (admins) ---------------------------------------------------------------------


@role_required(ADMIN)
def policy_list(request):
    policies = Policy.objects.annotate(
        assigned=Count("customers", distinct=True), version_number=Max("versions__number")
    )
    form = PolicyCopyForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            policy = policy_copy(actor=request.user, **form.cleaned_data)
        except PolicyError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Policy {policy.name} created; edit its steps below.")
            return redirect("dunning:policy_detail", policy.pk)
    return render(request, "dunning/policy_list.html", {"policies": policies, "form": form})


@role_required(ADMIN)
def policy_detail(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    versions = list(
        policy.versions.select_related("created_by").prefetch_related("steps").order_by("-number")
    )
    return render(
        request,
        "dunning/policy_detail.html",
        {
            "policy": policy,
            "versions": versions,
            "current": versions[0] if versions else None,
            "to_move": chases_to_move(policy).count(),
            "assigned": policy.customers.count(),
            "interest_form": PolicyInterestForm(
                initial={"interest_regime": policy.interest_regime}
            ),
        },
    )


@role_required(ADMIN)
def policy_edit(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    current = policy.current_version
    if request.method == "POST":
        formset = StepFormSet(request.POST, prefix="steps")
        note = PolicyVersionNoteForm(request.POST)
        if formset.is_valid() and note.is_valid():
            try:
                version = policy_save_version(
                    actor=request.user,
                    policy=policy,
                    steps=formset.steps(),
                    note=note.cleaned_data["note"],
                )
            except PolicyError as error:
                formset._non_form_errors.append(str(error))
            else:
                if version is None:
                    messages.info(request, "Nothing changed; no new version was made.")
                else:
                    messages.success(request, f"Saved as {policy.name} v{version.number}.")
                return redirect("dunning:policy_detail", policy.pk)
    else:
        formset = StepFormSet(initial=version_steps(current), prefix="steps")
        note = PolicyVersionNoteForm()
    return render(
        request,
        "dunning/policy_edit.html",
        {"policy": policy, "current": current, "formset": formset, "note_form": note},
    )


@role_required(ADMIN)
def policy_move(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    if request.method == "POST":
        try:
            moved = chases_move_to_version(actor=request.user, policy=policy)
        except PolicyError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"{moved} active chase{'s' if moved != 1 else ''} moved to "
                f"v{policy.current_version.number}.",
            )
        return redirect("dunning:policy_detail", policy.pk)
    diff = policy_version_diff(policy=policy)
    return render(request, "dunning/policy_move.html", {"policy": policy, "diff": diff})


@role_required(ADMIN)
@require_POST
def policy_default(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    if policy_set_default(actor=request.user, policy=policy):
        messages.success(request, f"{policy.name} is now the default policy.")
    else:
        messages.info(request, f"{policy.name} already is the default policy.")
    return redirect("dunning:policy_detail", policy.pk)


@role_required(ADMIN)
@require_POST
def policy_interest(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    form = PolicyInterestForm(request.POST)
    if form.is_valid():
        regime = form.cleaned_data["interest_regime"]
        if policy_set_interest(actor=request.user, policy=policy, regime=regime):
            messages.success(request, f"Statutory interest for {policy.name} saved.")
    else:
        messages.error(request, "Choose one of the listed laws, or none.")
    return redirect("dunning:policy_detail", policy.pk)


# --- settings (admins) ---------------------------------------------------------------------


@role_required(ADMIN)
def settings_edit(request):
    form = DunningSettingsForm(_posted(request), instance=DunningSettings.current())
    if request.method == "POST" and form.is_valid():
        changes = dunning_settings_update(actor=request.user, **form.changed_values())
        if changes:
            messages.success(request, "Dunning settings saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("dunning:settings")
    return render(request, "dunning/settings.html", {"form": form})


# --- planning, read-only ------------------------------------------------------------------


@dataclass
class Planned:
    customer_id: int
    name: str
    collector_id: int | None
    timezone: str
    currency: str
    plan: CustomerPlan
    steps: Steps

    @property
    def local_due(self) -> dt.datetime | None:
        action = self.plan.action
        return action.due_at.astimezone(zone(self.timezone)) if action else None


def plans_for(customer_ids, *, as_of: dt.datetime) -> list[Planned]:
    """The engine's plan for these customers as of a moment. Reads only: nothing is recorded,
    so what a page shows here is what a run at that moment would do."""
    steps = Steps()
    calendar = services.calendar_for(as_of)
    rows = []
    for loaded in facts_load(customer_ids, as_of=as_of, steps=steps):
        ladder = steps.facts_of(loaded.customer.version_id)
        rows.append(
            Planned(
                customer_id=loaded.customer.id,
                name=loaded.customer.name,
                collector_id=loaded.customer.collector_id,
                timezone=loaded.facts.timezone,
                currency=loaded.facts.currency,
                plan=plan_customer(loaded.facts, ladder, calendar, as_of),
                steps=steps,
            )
        )
    return rows


def _back_to_customer(customer: Customer):
    return redirect(reverse("customer_detail", args=[customer.pk]) + "#next-step")


# --- the customer page's panel (collectors) ------------------------------------------------


@role_required(COLLECTOR)
@require_GET
def customer_panel(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    now = timezone.now()
    today = timezone.localdate()
    [planned] = plans_for([customer.pk], as_of=now) or [None]
    invoices = {}
    if planned and planned.plan.action:
        invoices = Invoice.objects.in_bulk(planned.plan.action.invoice_ids)
    chosen = CustomerPolicy.objects.select_related("policy").filter(customer=customer).first()
    chase = (
        Chase.objects.select_related("policy_version__policy")
        .filter(customer=customer, status=ChaseStatus.ACTIVE)
        .first()
    )
    context = {
        "customer": customer,
        "planned": planned,
        "action_invoices": [invoices[i] for i in planned.plan.action.invoice_ids]
        if invoices
        else [],
        "now": now,
        "policy": chosen.policy if chosen else Policy.objects.filter(is_default=True).first(),
        "policy_is_default": chosen is None,
        "chase": chase,
        "promises": PromiseToPay.objects.filter(customer=customer, status=HoldStatus.OPEN)
        .prefetch_related("invoices")
        .order_by("promised_for"),
        "plan": PaymentPlan.objects.filter(customer=customer, status=PlanStatus.ACTIVE)
        .prefetch_related("instalments")
        .first(),
        "touches": Touch.objects.filter(customer=customer)
        .select_related("step")
        .order_by("-created_at", "-id")[:10],
        "promise_form": PromiseForm(customer=customer, today=today),
        "hold_form": HoldForm(today=today),
        "plan_form": PlanForm(today=today, initial={"first_date": today}),
        "policy_form": CustomerPolicyForm(initial={"policy": chosen.policy if chosen else None})
        if has_role(request.user, ADMIN)
        else None,
    }
    return render(request, "dunning/_customer_panel.html", context)


def _hold_page(request, customer, *, template: str, form, title: str, extra=None):
    return render(
        request,
        template,
        {"customer": customer, "form": form, "page_title": title, **(extra or {})},
    )


@role_required(COLLECTOR)
def promise_new(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    today = timezone.localdate()
    form = PromiseForm(_posted(request), customer=customer, today=today)
    if request.method == "POST" and form.is_valid():
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
            messages.success(
                request,
                f"Promise recorded: chasing pauses until {promise.holds_until:%d %b %Y}.",
            )
            return _back_to_customer(customer)
    return _hold_page(
        request,
        customer,
        template="dunning/promise_form.html",
        form=form,
        title="Record a promise to pay",
    )


@role_required(COLLECTOR)
def hold_set(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = HoldForm(_posted(request), today=timezone.localdate())
    if request.method == "POST" and form.is_valid():
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
            messages.success(request, "Chasing is on hold.")
            return _back_to_customer(customer)
    return _hold_page(
        request, customer, template="dunning/hold_form.html", form=form, title="Put on hold"
    )


@role_required(COLLECTOR)
@require_POST
def hold_release(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    if services.hold_release(actor=request.user, customer=customer):
        messages.success(request, "Hold released: chasing resumes.")
    else:
        messages.info(request, f"{customer.name} was not on hold.")
    return _back_to_customer(customer)


@role_required(COLLECTOR)
def plan_new(request, pk: int):
    """Two steps: the first POST shows the schedule, the second (confirm) saves it."""
    customer = get_object_or_404(Customer, pk=pk)
    today = timezone.localdate()
    form = PlanForm(_posted(request), today=today, initial={"first_date": today})
    schedule = None
    if request.method == "POST" and form.is_valid():
        schedule = form.schedule()
        if "confirm" in request.POST:
            try:
                services.plan_create(
                    actor=request.user,
                    customer=customer,
                    instalments=schedule,
                    agreed_on=today,
                    note=form.cleaned_data["note"],
                )
            except DunningError as error:
                form.add_error(None, str(error))
                schedule = None
            else:
                messages.success(request, f"Payment plan of {len(schedule)} instalments set up.")
                return _back_to_customer(customer)
    return _hold_page(
        request,
        customer,
        template="dunning/plan_form.html",
        form=form,
        title="Set up a payment plan",
        extra={"schedule": schedule},
    )


@role_required(ADMIN)
@require_POST
def customer_policy(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = CustomerPolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the policies.")
    elif customer_policy_set(actor=request.user, customer=customer, **form.cleaned_data):
        messages.success(request, "Policy changed; the next chase follows it.")
    else:
        messages.info(request, "Nothing changed.")
    return _back_to_customer(customer)


# --- calls (collectors) --------------------------------------------------------------------


def _open_balance():
    return Coalesce(
        Subquery(
            Invoice.objects.filter(
                customer=OuterRef("customer"),
                status__in=[InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE],
            )
            .values("customer")
            .annotate(total=Sum("open_balance"))
            .values("total")
        ),
        Decimal("0"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


@role_required(COLLECTOR)
@require_GET
def calls(request):
    form = None
    assignee = request.user
    if has_role(request.user, MANAGER):
        form = CallFilterForm(request.GET)
        if form.is_valid() and form.cleaned_data["collector"]:
            assignee = int(form.cleaned_data["collector"])
    tasks = (
        Task.objects.filter(kind=TaskKind.CALL, status=TaskStatus.OPEN, assigned_to=assignee)
        .select_related("customer", "touch")
        .annotate(balance=_open_balance())
        .order_by("due_at", "id")
    )
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    for task in page.object_list:
        task.local_due = task.due_at.astimezone(zone(task.customer.timezone))
        task.overdue = (task.window_end or task.due_at) < now
        task.form = CallOutcomeForm(auto_id=f"id_task{task.pk}_%s")
    return render(request, "dunning/calls.html", {"page": page, "form": form, "now": now})


@role_required(COLLECTOR)
@require_POST
def task_complete(request, pk: int):
    task = get_object_or_404(Task.objects.select_related("customer"), pk=pk)
    form = CallOutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the outcome of the call.")
    else:
        try:
            services.task_complete(
                actor=request.user,
                task=task,
                at=timezone.now(),
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
            )
        except DunningError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Call to {task.customer.name} logged.")
    return redirect(request.POST.get("next") or reverse("dunning:calls"))


# --- preview (managers) --------------------------------------------------------------------

PREVIEW_DAYS = 7
PREVIEW_PAGE = 25


@role_required(MANAGER)
@require_GET
def preview(request):
    """What goes out in the next seven days: each customer's next planned action, if it
    falls inside the window. Customers are planned chunk by chunk until the page is full,
    so a page costs what it shows rather than the whole ledger."""
    form = PreviewFilterForm(request.GET)
    filters = form.filters()
    now = timezone.now()
    until = now + dt.timedelta(days=PREVIEW_DAYS)
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        number = 1
    wanted = number * PREVIEW_PAGE + 1
    ids = customers_to_chase()
    if filters["collector"]:
        mine = set(
            Customer.objects.filter(collector_id=filters["collector"]).values_list("pk", flat=True)
        )
        ids = [i for i in ids if i in mine]
    rows = []
    for start in range(0, len(ids), 500):
        for planned in plans_for(ids[start : start + 500], as_of=now):
            action = planned.plan.action
            if action is None or action.due_at > until:
                continue
            if filters["channel"] and action.step.channel != filters["channel"]:
                continue
            rows.append(planned)
        if len(rows) >= wanted:
            break
    page_rows = rows[(number - 1) * PREVIEW_PAGE : number * PREVIEW_PAGE]
    numbers = {
        invoice.pk: invoice.number
        for invoice in Invoice.objects.filter(
            pk__in=[i for r in page_rows for i in r.plan.action.invoice_ids]
        ).only("number")
    }
    for row in page_rows:
        row.invoice_numbers = [numbers.get(i, "?") for i in row.plan.action.invoice_ids]
    return render(
        request,
        "dunning/preview.html",
        {
            "form": form,
            "rows": page_rows,
            "number": number,
            "has_next": len(rows) > number * PREVIEW_PAGE,
            "now": now,
            "until": until,
        },
    )
