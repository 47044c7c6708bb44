"""Reads for the calls page: the collector's calls for today, each with its customer's
situation and call script, in a fixed number of queries."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count, Min
from django.utils import timezone

from dunning.calendar import local_to_utc, zone
from dunning.limitation import barred_load
from dunning.models import Task, TaskKind, TaskStatus
from dunning.selectors import calendar_for
from invoices.dates import format_day, format_time_of_day
from invoices.models import Contact, Customer, Invoice, InvoiceStatus, Organisation
from invoices.money import format_money
from letters.exceptions import LetterError
from letters.models import LetterSettings, TemplateVersion
from letters.render import Parts, context_build, message_render
from letters.selectors import language_of

from .situation import OpenTasks, account_flags, last_touch, next_step

# What the "Promise or plan" figure of a call shows, worded as the queue words it.
PROMISE_FLAGS = ("broken_promise", "promise", "plan")


def _end_of_today(now: dt.datetime) -> dt.datetime:
    here = timezone.get_current_timezone()
    return local_to_utc(now.astimezone(here).date() + dt.timedelta(days=1), dt.time(0, 0), here)


def calls_later(*, assignee, now: dt.datetime) -> dict:
    """The assignee's open calls due after today: {"count": n, "first": earliest due_at}."""
    return Task.objects.filter(
        kind=TaskKind.CALL,
        status=TaskStatus.OPEN,
        assigned_to=assignee,
        due_at__gte=_end_of_today(now),
    ).aggregate(count=Count("pk"), first=Min("due_at"))


def calls_today(*, assignee, now: dt.datetime) -> list[Task]:
    """The assignee's open calls due by the end of today (the user's time zone), overdue
    ones included, in the order of the customer's local time of the call, in one query
    whatever their number. Each task carries, for the page: entry (the customer's queue
    row: their situation), days_late (of their oldest overdue invoice), local_due and
    local_now (in the customer's time zone), callable_now (inside calling_hours there)
    and overdue. calls_complete adds the rest for the rows a page shows."""
    end = _end_of_today(now)
    cal = calendar_for(now)
    hours = f"{format_time_of_day(cal.phone_start)}–{format_time_of_day(cal.phone_end)}"
    tasks = list(
        Task.objects.filter(
            kind=TaskKind.CALL, status=TaskStatus.OPEN, assigned_to=assignee, due_at__lt=end
        ).select_related(
            "customer", "customer__collector", "customer__queue_entry", "touch", "touch__step"
        )
    )
    for task in tasks:
        tz = zone(task.customer.timezone)
        task.entry = getattr(task.customer, "queue_entry", None)
        task.local_due = task.due_at.astimezone(tz)
        task.local_now = now.astimezone(tz)
        # PRODUCT.md rule 4: nobody is phoned outside these hours, their time.
        task.calling_hours = hours
        task.callable_now = cal.phone_start <= task.local_now.time() < cal.phone_end
        task.overdue = (task.window_end or task.due_at) < now
        oldest = task.entry.oldest_due if task.entry else None
        task.days_late = (task.local_now.date() - oldest).days if oldest else None
        # The customer's situation in the queue's words (workspace.situation).
        task.promise_flags = [
            flag
            for flag in account_flags(task.entry, task.customer, now=now, tasks=OpenTasks())
            if flag.key in PROMISE_FLAGS
        ]
        task.next = next_step(task.entry, has_open=True, now=now)
        task.touched = last_touch(task.entry)
    tasks.sort(key=lambda t: (t.local_due.replace(tzinfo=None), t.due_at, t.pk))
    return tasks


def calls_complete(tasks: Sequence[Task]) -> None:
    """Give each of these tasks (from calls_today) its customer's contacts, open invoices
    not in dispute (oldest first) and call script, in a fixed number of queries."""
    if not tasks:
        return
    ids = {task.customer_id for task in tasks}
    contacts = defaultdict(list)
    for contact in Contact.objects.filter(customer_id__in=ids).order_by(
        "customer_id", "-primary_phone", "-is_primary", "role", "name", "id"
    ):
        contacts[contact.customer_id].append(contact)
    invoices = defaultdict(list)
    for invoice in Invoice.objects.filter(customer_id__in=ids, status=InvoiceStatus.OPEN).order_by(
        "due_date", "number"
    ):
        invoices[invoice.customer_id].append(invoice)
    versions = _script_versions({_script_key(task) for task in tasks} - {""})
    # Read, not created: a page view writes nothing.
    organisation = Organisation.objects.filter(pk=1).first() or Organisation(pk=1)
    letter_settings = LetterSettings.current()
    # A script is checked like a message: nothing barred is threatened on the phone either.
    barred = barred_load(
        [(inv.pk, inv.customer_id, inv.due_date) for rows in invoices.values() for inv in rows],
        {
            task.customer_id: (
                task.customer.country,
                task.customer.region,
                task.local_now.date(),
            )
            for task in tasks
        },
    )
    for task in tasks:
        task.contacts = contacts[task.customer_id]
        task.invoices = invoices[task.customer_id]
        task.barred = tuple(inv.number for inv in task.invoices if inv.pk in barred)
        task.script, task.script_source = _script(
            task, versions, organisation=organisation, letter_settings=letter_settings
        )


def _script_key(task: Task) -> str:
    return task.touch.step.template if task.touch_id and task.touch.step_id else ""


def _script_versions(keys: set[str]) -> dict[tuple[str, str], TemplateVersion]:
    """(key, language) -> the latest version of each of these templates."""
    latest = {}
    if keys:
        for version in (
            TemplateVersion.objects.filter(template__key__in=keys)
            .select_related("template")
            .order_by("number")
        ):
            latest[(version.template.key, version.template.language)] = version
    return latest


def _script(task: Task, versions, *, organisation, letter_settings) -> tuple[str, str]:
    """The call script and the template it came from ("" for the built-in one): the phone
    step's template rendered for the customer as a message would be."""
    customer = task.customer
    today = task.local_now.date()
    overdue = [inv for inv in task.invoices if inv.due_date < today]
    key = _script_key(task)
    version = versions.get((key, language_of(customer.country, customer.language))) or versions.get(
        (key, "en")
    )
    if version is not None:
        context = context_build(
            customer=customer,
            contact=next((c for c in task.contacts if c.phone), None),
            invoices=[
                {"number": inv.number, "due_date": inv.due_date, "balance": inv.open_balance}
                for inv in overdue
            ],
            today=today,
            step=task.touch.step.name,
            collector=customer.collector,
            organisation=organisation,
            letter_settings=letter_settings,
            barred_invoices=task.barred,
        )
        try:
            return message_render(Parts.of(version), context).text, str(version)
        except LetterError:
            pass  # a template that cannot render must not hide the call: the built-in one
    return builtin_script(customer, overdue, organisation=organisation), ""


def builtin_script(customer: Customer, overdue: Sequence[Invoice], *, organisation) -> str:
    """A short script for calls whose step has no template of its own."""
    caller = customer.collector.get_full_name() if customer.collector else ""
    opening = f"Hello, this is {caller or 'the accounts team'} from {organisation.name}, "
    opening += f"calling about the account of {customer.name} ({customer.external_id})."
    if not overdue:
        return opening + " Nothing on the account is overdue today."
    total = sum((inv.open_balance for inv in overdue), Decimal("0"))
    count = f"{len(overdue)} invoice{'s are' if len(overdue) != 1 else ' is'} overdue"
    lines = [
        f"- {inv.number}: {format_money(inv.open_balance, customer.currency)}, due "
        f"{format_day(inv.due_date)}"
        for inv in overdue
    ]
    return "\n".join(
        [
            opening,
            f"{count}, {format_money(total, customer.currency)} in all:",
            *lines,
            "Can you tell me when this will be paid? If something is wrong with an invoice, "
            "tell me what, and I will look into it.",
        ]
    )
