"""What the pay pages read."""

from invoices.models import Allocation, Invoice

from ..models import CheckoutSession, CheckoutStatus


def foreign_ids(customer_id: int, ids: list[int]) -> set[int]:
    """Those of `ids` that are not invoices of this customer."""
    own = Invoice.objects.filter(pk__in=ids, customer_id=customer_id).values_list("pk", flat=True)
    return set(ids) - set(own)


def receipt(customer_id: int, pk: int) -> dict | None:
    """The checkout `pk` of this customer as its receipt shows it; None for anyone else's."""
    checkout = (
        CheckoutSession.objects.filter(pk=pk, customer_id=customer_id)
        .select_related("payment", "contact")
        .first()
    )
    if checkout is None:
        return None
    paid = checkout.status == CheckoutStatus.PAID
    allocations = []
    if paid:
        allocations = list(
            Allocation.objects.filter(payment_id=checkout.payment_id)
            .select_related("invoice")
            .order_by("invoice__due_date", "invoice__number")
        )
    numbers = dict(Invoice.objects.filter(pk__in=checkout.invoice_ids).values_list("pk", "number"))
    return {
        "checkout": checkout,
        "paid": paid,
        "payment": checkout.payment,
        "allocations": allocations,
        "numbers": [numbers[pk] for pk in checkout.invoice_ids if pk in numbers],
    }
