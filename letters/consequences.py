"""What a message may threaten or claim, decided before it is written.

A template marks each consequence it states ({% consequence "legal_action" %}…); this
module decides, from plain facts about the customer and the debt, which of them are true
to say. Pure: no ORM, no I/O, so the same check serves sending, previews and tests.

The rules follow ../shared/LEGAL.md; its last section is the root of all of them: a demand
states "only truthful consequences that the creditor really intends and is allowed to
take"."""

from collections.abc import Iterable
from dataclasses import dataclass, field

INTEREST = "interest"
COMPENSATION = "compensation"
FEES = "fees"
CREDIT_HOLD = "credit_hold"
REFERRAL = "referral"
LEGAL_ACTION = "legal_action"
REPORTING = "reporting"

# name -> how people read it, in the order the editor lists them.
CONSEQUENCES: dict[str, str] = {
    INTEREST: "interest",
    COMPENSATION: "compensation",
    FEES: "fees",
    CREDIT_HOLD: "credit hold",
    REFERRAL: "referral for recovery",
    LEGAL_ACTION: "legal action",
    REPORTING: "reporting to a credit agency",
}
_CLAIMS = (INTEREST, COMPENSATION, FEES)  # money asked for; the rest are threats


@dataclass(frozen=True)
class Facts:
    """What the check needs, as plain values (letters.render.context_build gathers them)."""

    debtor_type: str = "business"  # business, sole_trader or consumer
    creditor_role: str = "creditor"  # or "agency": collecting for others
    country: str = ""
    region: str = ""
    interest_enabled: bool = False  # a statutory or contractual claim applies (decided elsewhere)
    fees_agreed: bool = False  # the customer's accepted terms give a late fee
    barred: bool = False  # an invoice covered is past its limitation date
    barred_rule: str = "soft"  # the policy's rule for barred debts: "soft" or "stop"
    credit_hold_possible: bool = False  # there is further credit we could stop
    reports_to_agencies: bool = False  # the firm really reports debts to credit agencies
    barred_invoices: tuple[str, ...] = ()  # their numbers, to say which


@dataclass(frozen=True)
class Verdict:
    """Which consequences a message may state; for each refused one, why, in words."""

    allowed: frozenset[str]
    refused: dict[str, str] = field(default_factory=dict)

    def allows(self, *names: str) -> bool:
        return all(name in self.allowed for name in names)

    def why_not(self, names: Iterable[str]) -> str:
        """The reasons the named consequences are refused, each said once."""
        reasons = dict.fromkeys(self.refused[n] for n in names if n in self.refused)
        return "; ".join(reasons)


def consequences_allowed(facts: Facts) -> Verdict:
    """The consequences a message to this customer may state (LEGAL.md)."""
    refused: dict[str, str] = {}
    for name in CONSEQUENCES:
        reason = _refusal(name, facts)
        if reason:
            refused[name] = reason
    return Verdict(allowed=frozenset(n for n in CONSEQUENCES if n not in refused), refused=refused)


def _refusal(name: str, facts: Facts) -> str:
    if facts.barred:
        return _barred_refusal(name, facts)
    if name in (INTEREST, COMPENSATION) and not facts.interest_enabled:
        # Statutory interest and compensation are for debts between businesses (LEGAL.md:
        # EU directive, UK 1998 Act); otherwise only what the accepted terms give. Whether
        # either applies is worked out with the figures (letters.render.interest_record).
        return "no statutory or contractual late-payment interest applies to this customer"
    if name == FEES and not facts.fees_agreed:
        # LEGAL.md (FDCPA): "charge only fees the contract or law allows".
        return "the customer's accepted terms give no late fee"
    if name == CREDIT_HOLD and not facts.credit_hold_possible:
        return "there is no further credit to put on hold"
    if name == REPORTING and not facts.reports_to_agencies:
        # Only consequences the creditor really intends to take (LEGAL.md): we report
        # nobody unless the firm says it does.
        return "this firm does not report debts to credit agencies"
    return ""


def _barred_refusal(name: str, facts: Facts) -> str:
    past = _past_limitation(facts.barred_invoices)
    if name in (LEGAL_ACTION, REFERRAL):
        # No court enforces a barred debt, so threatening one is untrue everywhere; LEGAL.md
        # (FDCPA, Regulation F): "never sue or threaten to sue on a time-barred debt".
        return f"{past}, so no legal action or referral may be threatened{_us_consumer_law(facts)}"
    verb = "claimed" if name in _CLAIMS else "threatened"
    if facts.barred_rule == "stop":
        return f"{past} and the policy stops chasing such debts"
    # The policy's "soft" rule: reminders only, with no charges and no threats.
    return (
        f"{past}, and the policy sends soft reminders only: no {CONSEQUENCES[name]} may be {verb}"
    )


def _past_limitation(numbers: tuple[str, ...]) -> str:
    if not numbers:
        return "an invoice covered is past its limitation date"
    if len(numbers) == 1:
        return f"{numbers[0]} is past its limitation date"
    listed = f"{', '.join(numbers[:-1])} and {numbers[-1]}"
    return f"{listed} are past their limitation dates"


def _us_consumer_law(facts: Facts) -> str:
    """The law that says so, for a US consumer debt (LEGAL.md): the FDCPA binds collection
    agencies; California's Rosenthal Act binds original creditors too."""
    if facts.country != "US" or facts.debtor_type != "consumer":
        return ""
    if facts.creditor_role == "agency":
        return " (FDCPA)"
    if facts.region.upper() in ("CA", "CALIFORNIA"):
        return " (Rosenthal Act)"
    return ""
