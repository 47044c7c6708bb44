"""The dunning screens: policies and settings (admins), a customer's policy (admins) and
the managers' dry-run preview. Views bind a form, call one service and redirect; domain
errors come back as form errors. The collector's screens live in the workspace app."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from accounts.roles import (
    ADMIN,
    MANAGER,
    require_change,
    role_required,
)
from invoices.models import Customer, Invoice
from letters.claims import regime_reach

from .calendar import zone
from .engine import plan_customer
from .facts import CustomerPlan
from .forms import (
    CustomerPolicyForm,
    DunningSettingsForm,
    PolicyBarredForm,
    PolicyCopyForm,
    PolicyInterestForm,
    PolicyRepeatForm,
    PolicyVersionNoteForm,
    PreviewFilterForm,
    StepFormSet,
)
from .models import (
    DunningSettings,
    Policy,
    QueueEntry,
)
from .policy_services import (
    PolicyError,
    chases_move_to_version,
    chases_to_move,
    customer_policy_set,
    dunning_settings_update,
    policy_copy,
    policy_save_version,
    policy_set_barred_debts,
    policy_set_default,
    policy_set_interest,
    policy_version_diff,
    template_catalogue,
    version_steps,
)
from .schedule import CREDIT_HOLDS, CREDIT_HOLDS_FUNC
from .selectors import Steps, calendar_for, facts_load


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
    catalogue = template_catalogue(
        s.template for s in (versions[0].steps.all() if versions else ())
    )
    for version in versions:
        for step in version.steps.all():
            option = catalogue.get(step.template)
            step.template_name = option.name if option else ""
            step.template_problem = catalogue.problem(step.channel, step.template)
    return render(
        request,
        "dunning/policy_detail.html",
        {
            "policy": policy,
            "versions": versions,
            "current": versions[0] if versions else None,
            "to_move": chases_to_move(policy).count(),
            "assigned": policy.customers.count(),
            "barred_form": PolicyBarredForm(initial={"barred_debts": policy.barred_debts}),
            "repeat_form": PolicyRepeatForm(
                initial={"repeat_every_days": policy.repeat_every_days}
            ),
            "interest_form": PolicyInterestForm(
                initial={"interest_regime": policy.interest_regime}
            ),
            "interest_reach": regime_reach(
                regime=policy.interest_regime, customers=_policy_customers(policy)
            ),
        },
    )


def _policy_customers(policy: Policy):
    """The customers a policy may chase: those it was chosen for, those without a choice
    that one of its rules names (by debtor type and country; a rule's balance condition
    is left out, so this is the most it can reach) and, for the default policy, every
    other customer without a choice."""
    unchosen = Q(dunning__isnull=True)
    reach = Q(dunning__policy=policy)
    for rule in policy.rules.all():
        named = Q()
        if rule.debtor_type:
            named &= Q(debtor_type=rule.debtor_type)
        if rule.country:
            named &= Q(country=rule.country)
        reach |= unchosen & named
    if policy.is_default:
        reach |= unchosen
    return Customer.objects.filter(reach)


@role_required(ADMIN)
def policy_edit(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    current = policy.current_version
    steps = version_steps(current)
    rows = {
        "prefix": "steps",
        "form_kwargs": {"catalogue": template_catalogue(step["template"] for step in steps)},
    }
    problems = []
    if request.method == "POST":
        formset = StepFormSet(request.POST, **rows)
        note = PolicyVersionNoteForm(request.POST)
        # Both are checked, not one after the other, so every problem shows in one round.
        if all([formset.is_valid(), note.is_valid()]):
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
        problems = formset.problems(note)
    else:
        formset = StepFormSet(initial=steps, **rows)
        note = PolicyVersionNoteForm()
    return render(
        request,
        "dunning/policy_edit.html",
        {
            "policy": policy,
            "current": current,
            "formset": formset,
            "note_form": note,
            "problems": problems,
        },
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
        try:
            changed = policy_set_interest(actor=request.user, policy=policy, regime=regime)
        except PolicyError as error:
            messages.error(request, str(error))
        else:
            if changed:
                reach = regime_reach(regime=regime, customers=_policy_customers(policy))
                messages.success(
                    request,
                    f"Statutory interest for {policy.name} saved. {reach.audience} {reach.summary}",
                )
    else:
        messages.error(request, "Choose one of the listed laws, or none.")
    return redirect("dunning:policy_detail", policy.pk)


@role_required(ADMIN)
@require_POST
def policy_barred(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    form = PolicyBarredForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed rules for barred debts.")
    elif policy_set_barred_debts(
        actor=request.user, policy=policy, rule=form.cleaned_data["barred_debts"]
    ):
        messages.success(request, f"The rule for barred debts of {policy.name} saved.")
    return redirect("dunning:policy_detail", policy.pk)


# --- settings (admins) ---------------------------------------------------------------------

CREDIT_HOLD_SETTINGS = {"credit_hold_overdue_days", "credit_hold_over_limit"}


@role_required(ADMIN)
def settings_edit(request):
    form = DunningSettingsForm(_posted(request), instance=DunningSettings.current())
    if request.method == "POST" and form.is_valid():
        changes = dunning_settings_update(actor=request.user, **form.changed_values())
        if changes:
            messages.success(request, "Dunning settings saved.")
        else:
            messages.info(request, "Nothing changed.")
        if CREDIT_HOLD_SETTINGS & set(changes):
            # The changed rule applies now, in the worker, not at the next hourly run.
            # robust: a broker that is down must not fail a change that has committed.
            transaction.on_commit(
                lambda: async_task(CREDIT_HOLDS_FUNC, task_name=CREDIT_HOLDS), robust=True
            )
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
    calendar = calendar_for(as_of)
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


# --- the customer's policy (admins) ------------------------------------------------------


@role_required(ADMIN)
@require_POST
def customer_policy(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    require_change(request.user, customer)
    form = CustomerPolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the policies.")
    elif customer_policy_set(actor=request.user, customer=customer, **form.cleaned_data):
        messages.success(request, "Policy changed; the next chase follows it.")
    else:
        messages.info(request, "Nothing changed.")
    return _back_to_customer(customer)


# --- preview (managers) --------------------------------------------------------------------

PREVIEW_DAYS = 7
PREVIEW_PAGE = 25
PREVIEW_CHUNK = 500


@role_required(MANAGER)
@require_GET
def preview(request):
    """What goes out in the next seven days, soonest first: each customer's next planned
    action, if it falls inside the window. Customers are planned chunk by chunk until the
    page is full, so a page costs what it shows rather than the whole ledger."""
    form = PreviewFilterForm(request.GET)
    filters = form.filters()
    now = timezone.now()
    until = now + dt.timedelta(days=PREVIEW_DAYS)
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        number = 1
    wanted = number * PREVIEW_PAGE + 1
    # Candidates soonest first, as the last run or action left each customer's next step;
    # each is planned again here, so a row shows what a run now would do.
    entries = QueueEntry.objects.filter(next_at__lte=until).order_by("next_at", "customer_id")
    if filters["collector"]:
        entries = entries.filter(collector_id=filters["collector"])
    rows = []
    start = 0
    while len(rows) < wanted:
        ids = list(entries.values_list("customer_id", flat=True)[start : start + PREVIEW_CHUNK])
        if not ids:
            break
        start += PREVIEW_CHUNK
        for planned in plans_for(ids, as_of=now):
            action = planned.plan.action
            if action is None or action.due_at > until:
                continue
            if filters["channel"] and action.step.channel != filters["channel"]:
                continue
            rows.append(planned)
    rows.sort(key=lambda r: (r.plan.action.due_at, r.name, r.customer_id))
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
