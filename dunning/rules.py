"""Which policy chases a customer, and the admins' rules that decide it.

In order: the policy chosen for the customer (CustomerPolicy), else the first policy rule
(lowest position) whose conditions all hold - debtor type, country, an open balance of at
least min_balance in the customer's currency; a blank condition holds for everyone - else
the default policy. The engine's bulk loader resolves from rows it has loaded anyway
(policy_resolve); a page asks for one customer (policy_for: four small queries). An active
chase keeps the policy version it started on, whatever the rules say later."""

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import Sum

from audit.services import audit_record
from invoices.models import Customer, DebtorType, Invoice, InvoiceStatus
from invoices.money import format_money

from .exceptions import DunningError
from .models import CustomerPolicy, Policy, PolicyRule

OPEN_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
CHOSEN = "chosen for this customer"
DEFAULT = "the default policy"


class Rule(NamedTuple):
    position: int
    debtor_type: str
    country: str
    min_balance: Decimal | None
    policy_id: int
    policy_name: str

    def holds(self, debtor_type: str, country: str, balance: Decimal) -> bool:
        return (
            (not self.debtor_type or self.debtor_type == debtor_type)
            and (not self.country or self.country == country.upper())
            and (self.min_balance is None or balance >= self.min_balance)
        )

    def describe(self, currency: str = "") -> str:
        """The rule's conditions in words: "consumers in GB owing at least £500.00"."""
        who = {
            "": "customers",
            DebtorType.BUSINESS: "businesses",
            DebtorType.SOLE_TRADER: "sole traders",
            DebtorType.CONSUMER: "consumers",
        }.get(self.debtor_type, self.debtor_type)
        text = who
        if self.country:
            text += f" in {self.country}"
        if self.min_balance is not None:
            amount = format_money(self.min_balance, currency) if currency else f"{self.min_balance}"
            text += f" owing at least {amount}"
        return text if text != "customers" else "every customer"

    def why(self, currency: str = "") -> str:
        return f"by rule {self.position}: {self.describe(currency)}"


class Resolved(NamedTuple):
    policy_id: int | None
    why: str  # "chosen for this customer", "by rule 2: consumers in GB", "the default policy"


def rules_load() -> list[Rule]:
    """Every rule, in the order they are tried. One query."""
    return [
        Rule(*row)
        for row in PolicyRule.objects.order_by("position", "id").values_list(
            "position", "debtor_type", "country", "min_balance", "policy_id", "policy__name"
        )
    ]


def policy_resolve(
    *,
    chosen: int | None,
    rules: Sequence[Rule],
    default: int | None,
    debtor_type: str,
    country: str,
    balance: Decimal,
    currency: str = "",
) -> Resolved:
    """The policy for a customer from what is already loaded: no query."""
    if chosen is not None:
        return Resolved(chosen, CHOSEN)
    rule = rule_for(rules, debtor_type=debtor_type, country=country, balance=balance)
    if rule is None:
        return Resolved(default, DEFAULT)
    return Resolved(rule.policy_id, rule.why(currency))


def rule_for(
    rules: Sequence[Rule], *, debtor_type: str, country: str, balance: Decimal
) -> Rule | None:
    """The first rule whose conditions all hold, if any."""
    return next((r for r in rules if r.holds(debtor_type, country, balance)), None)


def open_balance(customer: Customer) -> Decimal:
    total = Invoice.objects.filter(customer=customer, status__in=OPEN_STATUSES).aggregate(
        total=Sum("open_balance")
    )["total"]
    return total or Decimal("0")


def policy_for(customer: Customer) -> tuple[Policy | None, str]:
    """The policy that chases this customer now, and why. Four queries."""
    chosen = (
        CustomerPolicy.objects.filter(customer=customer).values_list("policy_id", flat=True).first()
    )
    rules = rules_load() if chosen is None else []
    default = Policy.objects.filter(is_default=True).values_list("id", flat=True).first()
    found = policy_resolve(
        chosen=chosen,
        rules=rules,
        default=default,
        debtor_type=customer.debtor_type,
        country=customer.country,
        balance=open_balance(customer) if rules else Decimal("0"),
        currency=customer.currency,
    )
    policy = Policy.objects.filter(pk=found.policy_id).first() if found.policy_id else None
    return policy, found.why


# --- the rules screen's writes (admins) ---------------------------------------------------


def _snapshot(rule: PolicyRule) -> dict:
    return {
        "position": rule.position,
        "debtor_type": rule.debtor_type,
        "country": rule.country,
        "min_balance": str(rule.min_balance) if rule.min_balance is not None else None,
        "policy": rule.policy_id,
    }


def _words(rule: PolicyRule) -> str:
    return Rule(
        rule.position, rule.debtor_type, rule.country, rule.min_balance, rule.policy_id, ""
    ).describe()


@transaction.atomic
def policy_rule_save(
    *,
    actor,
    rule: PolicyRule | None,
    position: int,
    debtor_type: str,
    country: str,
    min_balance: Decimal | None,
    policy: Policy,
) -> PolicyRule:
    """Add a rule (rule None) or change one. Taking a position another rule holds moves
    that rule (and those after it, as needed) one down, so the order stays as the admin
    meant it."""
    if position < 1:
        raise DunningError("A rule's position is 1 or more.")
    if min_balance is not None and min_balance < 0:
        raise DunningError("The least balance cannot be negative.")
    before = None
    if rule is not None:
        rule = PolicyRule.objects.select_for_update().get(pk=rule.pk)
        before = _snapshot(rule)
    taken = PolicyRule.objects.select_for_update().filter(position=position)
    if rule is not None:
        taken = taken.exclude(pk=rule.pk)
    if taken.exists():
        _make_room(position, keep=rule.pk if rule else None)
    rule = rule or PolicyRule()
    rule.position = position
    rule.debtor_type = debtor_type
    rule.country = country.upper()
    rule.min_balance = min_balance
    rule.policy = policy
    rule.save()
    after = _snapshot(rule)
    if before == after:
        return rule
    audit_record(
        action="dunning.policy_rule.saved",
        actor=actor,
        summary=f"Policy rule {rule.position}: {_words(rule)} follow policy {policy.name}",
        data={"rule_id": rule.pk, "before": before, "after": after},
    )
    return rule


def _make_room(position: int, *, keep: int | None) -> None:
    """Move the rules from `position` on one down, last first (the unique position would
    refuse a shift all at once on some databases)."""
    rows = PolicyRule.objects.filter(position__gte=position).order_by("-position")
    if keep is not None:
        rows = rows.exclude(pk=keep)
    for row in rows:
        PolicyRule.objects.filter(pk=row.pk).update(position=row.position + 1)


@transaction.atomic
def policy_rule_delete(*, actor, rule: PolicyRule) -> None:
    before = _snapshot(rule)
    words = _words(rule)
    deleted, _ = PolicyRule.objects.filter(pk=rule.pk).delete()
    if not deleted:
        return
    audit_record(
        action="dunning.policy_rule.deleted",
        actor=actor,
        summary=f"Policy rule {before['position']} ({words}) deleted",
        data={"rule_id": rule.pk, "before": before},
    )


@transaction.atomic
def policy_set_repeat(*, actor, policy: Policy, every_days: int | None) -> bool:
    """Send the ladder's last reminder again every this many days until paid (None: once)."""
    if every_days is not None and every_days < 1:
        raise DunningError("Repeat every 1 day or more, or leave it blank.")
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.repeat_every_days == every_days:
        return False
    before = policy.repeat_every_days
    Policy.objects.filter(pk=policy.pk).update(repeat_every_days=every_days)
    audit_record(
        action="dunning.policy.repeat_set",
        actor=actor,
        summary=f"Policy {policy.name}: "
        + (
            f"the last reminder repeats every {every_days} days until paid"
            if every_days
            else "the last reminder goes once"
        ),
        data={"policy": policy.pk, "before": before, "after": every_days},
    )
    return True
