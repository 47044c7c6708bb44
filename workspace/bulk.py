"""Bulk actions from the queue: the same services as on the customer page, one customer
at a time, so each is audited on its own and one refusal does not stop the rest."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from dunning import services
from dunning.exceptions import DunningError
from dunning.queue import queue_refresh
from dunning.sending import next_step_send_now
from invoices.exceptions import LedgerError
from invoices.models import Customer
from invoices.services import customer_update


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)  # customer names
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


def _each(customers, work) -> BulkResult:
    result = BulkResult()
    for customer in customers:
        try:
            with transaction.atomic():
                work(customer)
        except (DunningError, LedgerError) as error:
            result.skipped.append((customer.name, str(error)))
        else:
            result.done.append(customer.name)
    return result


def customers_assign(*, actor, customers: list[Customer], collector) -> BulkResult:
    def assign(customer):
        customer_update(actor=actor, customer=customer, collector=collector)
        queue_refresh(customer_ids=[customer.pk])

    return _each(customers, assign)


def customers_hold(
    *, actor, customers: list[Customer], reason: str, until: dt.date | None
) -> BulkResult:
    return _each(
        customers,
        lambda customer: services.hold_set(
            actor=actor, customer=customer, reason=reason, until=until
        ),
    )


def customers_send_now(*, actor, customers: list[Customer], as_of: dt.datetime) -> BulkResult:
    return _each(
        customers,
        lambda customer: next_step_send_now(actor=actor, customer=customer, as_of=as_of),
    )
