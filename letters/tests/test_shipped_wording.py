"""Every shipped template, rendered for every kind of debtor, jurisdiction and limitation
state, with a full and a sparse customer: it states no consequence the check refuses, and
no sentence breaks where an optional field is blank."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest

from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.defaults import SHIPPED, shipped_text
from letters.exceptions import ConsequenceRefused
from letters.models import LetterSettings
from letters.render import Parts, consequences_declared, context_build, message_render
from letters.sandbox import HTML, render

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 16)

# (country, region, currency, limitation years, the statutory regime a policy there claims).
# Years from LEGAL.md (England 6, California 4, New York 6); Germany's regular period is 3.
JURISDICTIONS = {
    "GB-England": ("GB", "England", "GBP", 6, "uk"),
    "DE": ("DE", "", "EUR", 3, "eu"),
    "US-CA": ("US", "CA", "USD", 4, ""),
    "US-NY": ("US", "NY", "USD", 6, ""),
}
DEBTOR_TYPES = ("business", "sole_trader", "consumer")
LIMITATION = ("current", "close", "barred")

# Words that state each consequence; none may appear when the check refuses it.
PHRASES = {
    "interest": (r"\binterest\b", r"late-payment charges"),
    "compensation": (r"\bcompensation\b",),
    "fees": (r"\bfees?\b",),
    "credit_hold": (r"credit on hold", r"hold on (further )?credit"),
    "referral": (r"\brefer(red|ral)?\b", r"collection agency", r"for recovery"),
    "legal_action": (r"legal proceedings", r"legal action", r"\bcourt\b", r"\bsue\b"),
    "reporting": (r"credit (reference )?agenc", r"credit bureau", r"credit report"),
}
# What a sentence looks like when a blank field broke it.
BROKEN = {
    "a dangling word before punctuation": r"\b(at|by|to|of|on|or|and|from|for|is)\s*[.,;!?]",
    "'or at'": r"\bor at\b",
    "two spaces": r"\S {2,}\S",
    "a space before punctuation": r"\w [,.;:!?]",
    "an empty greeting": r"\bDear\s*[,.]",
    "empty brackets": r"\(\s*\)",
    "doubled punctuation": r"[,.;:]\s*[,.;]",
    "a label with nothing after it": r"^[A-Z][\w ]{0,30}:\s*$(?<!are:)",
    "a missing value": r"\bNone\b|\{\{|\{%|\x00",
}


def _limitation_dates(state: str, years: int) -> list[dt.date]:
    limit_start = TODAY.replace(year=TODAY.year - years)  # due on this day: barred tomorrow
    oldest = {
        "current": TODAY - dt.timedelta(days=75),
        "close": limit_start + dt.timedelta(days=60),
        "barred": limit_start - dt.timedelta(days=40),
    }[state]
    return [oldest, TODAY - dt.timedelta(days=20)]


def _world(django_user_model, *, debtor_type, jurisdiction, state, sparse):
    country, region, currency, years, regime = JURISDICTIONS[jurisdiction]
    customer = CustomerFactory(
        name="Harbour Fabrication",
        debtor_type=debtor_type,
        country=country,
        region=region,
        currency=currency,
    )
    invoices = []
    for n, due in enumerate(_limitation_dates(state, years)):
        invoice = InvoiceFactory(
            customer=customer,
            number=f"INV-{7001 + n}",
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            amount=Decimal("1200.00") - 850 * n,
        )
        invoices.append(
            {"number": invoice.number, "due_date": due, "balance": invoice.open_balance}
        )
    contact = ContactFactory(
        customer=customer,
        name="" if sparse else "Priya Shah",
        address="" if sparse else "4 Dock Road\nHull",
    )
    collector = django_user_model.objects.create_user(
        username="colin", first_name="Colin", last_name="Hart", email="" if sparse else "c@x.io"
    )
    LetterSettings.objects.create(
        pk=1,
        address="" if sparse else "1 Mill Lane\nLeeds",
        signature="" if sparse else "Sam Carter\nCredit Controller",
        payment_instructions="" if sparse else "Sort code 12-34-56, account 12345678",
        payment_link="" if sparse else "https://pay.example.com/{number}",
    )
    barred = [
        line["number"]
        for line in invoices
        if line["due_date"].replace(year=line["due_date"].year + years) < TODAY
    ]
    return context_build(
        customer=customer,
        contact=contact,
        invoices=invoices,
        today=TODAY,
        step="Step",
        deadline=dt.date(2026, 4, 3),
        deadline_days=14,
        collector=collector,
        opt_out_url="https://example.com/portal/opt-out/t/" if debtor_type == "consumer" else "",
        interest_regime=regime,
        barred_invoices=barred,
    )


def _visible(markup: str) -> str:
    """What a reader sees of an HTML part: text, one block per line."""
    markup = re.sub(r"(?s)<(style|head)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</?(p|h\d|tr|li|table|div|ul)\b[^>]*>", "\n", markup)
    markup = re.sub(r"</t[dh]>", " ", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _problems(text: str, refused: set[str]) -> list[str]:
    found = []
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for what, pattern in BROKEN.items():
        for line in lines:
            if re.search(pattern, line):
                found.append(f"{what}: {line!r}")
    for name in refused:
        for pattern in PHRASES[name]:
            if re.search(pattern, text, re.IGNORECASE):
                found.append(f"states {name}, which the check refuses: /{pattern}/")
    return found


def _rendered(key: str, context: dict) -> dict[str, str]:
    parts = Parts(**shipped_text(key), name=SHIPPED[key][0])
    message = message_render(parts, context)
    out = {"subject": message.subject, "text": message.text, "html": _visible(message.html)}
    if parts.letter_html.strip():
        letter = render(parts.letter_html, context, engine=HTML, field="Letter", name=parts.name)
        out["letter"] = _visible(letter)
    return out


@pytest.mark.parametrize("sparse", [False, True], ids=["full", "sparse"])
@pytest.mark.parametrize("state", LIMITATION)
@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
@pytest.mark.parametrize("debtor_type", DEBTOR_TYPES)
def test_every_shipped_template_says_only_what_is_allowed_and_reads_well(
    django_user_model, debtor_type, jurisdiction, state, sparse
):
    context = _world(
        django_user_model,
        debtor_type=debtor_type,
        jurisdiction=jurisdiction,
        state=state,
        sparse=sparse,
    )
    consequences = context["consequences"]
    refused = {name for name in PHRASES if name not in consequences["allowed"]}

    problems, not_sent = [], []
    for key in sorted(SHIPPED):
        try:
            parts = _rendered(key, context)
        except ConsequenceRefused as refusal:
            declared = consequences_declared(Parts(**shipped_text(key)))
            required = {d.name for d in declared if d.required}
            assert set(refusal.consequences) <= required & refused, key
            not_sent.append(key)
            continue
        for part, text in parts.items():
            problems += [f"{key} {part}: {problem}" for problem in _problems(text, refused)]

    assert problems == []
    # A barred debt gets no final demand (it threatens referral); a live one gets them all.
    assert not_sent == (["final_demand", "letter_of_claim"] if state == "barred" else [])


def _gb_business(django_user_model, *, regime="", collector=None) -> dict:
    customer = CustomerFactory(name="Harbour Fabrication", country="GB", currency="GBP")
    invoice = InvoiceFactory(
        customer=customer, number="INV-7001", due_date=TODAY - dt.timedelta(days=60)
    )
    return context_build(
        customer=customer,
        contact=None,
        invoices=[{"number": "INV-7001", "due_date": invoice.due_date, "balance": Decimal(100)}],
        today=TODAY,
        deadline=dt.date(2026, 4, 3),
        deadline_days=14,
        collector=collector,
        interest_regime=regime,
    )


@pytest.mark.parametrize(("regime", "mentioned"), [("uk", True), ("", False)])
def test_the_firm_reminder_mentions_late_payment_charges_only_when_they_are_claimed(
    django_user_model, regime, mentioned
):
    text = _rendered("firm_reminder", _gb_business(django_user_model, regime=regime))["text"]

    assert ("late-payment charges" in text) is mentioned
    assert "Please pay the full amount now." in text


@pytest.mark.parametrize(
    ("names", "email", "email_says", "letter_says"),
    [
        (
            ("Colin", "Hart"),
            "colin@example.com",
            "simply reply to this email or write to Colin Hart at colin@example.com.",
            "You can reach Colin Hart at colin@example.com.",
        ),
        (
            ("Colin", "Hart"),
            "",
            "simply reply to this email: Colin Hart looks after your account.",
            "Colin Hart looks after your account.",
        ),
        (None, "", "simply reply to this email.\n", ""),
    ],
    ids=["name and email", "name only", "no collector"],
)
def test_who_to_contact_reads_well_whatever_is_known_of_the_collector(
    django_user_model, names, email, email_says, letter_says
):
    collector = None
    if names:
        collector = django_user_model.objects.create_user(
            username="colin", first_name=names[0], last_name=names[1], email=email
        )

    rendered = _rendered("final_demand", _gb_business(django_user_model, collector=collector))

    assert email_says in rendered["text"]
    assert letter_says in rendered["letter"]
    assert "You can reach" not in rendered["letter"] or email
