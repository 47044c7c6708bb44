"""The consequence check: which threats and claims a message may state, and the
{% consequence %} tag that leaves out, or refuses to send, what it may not."""

import pytest

from letters import sandbox
from letters.consequences import CONSEQUENCES, Facts, consequences_allowed
from letters.exceptions import ConsequenceRefused, TemplateProblem
from letters.render import Parts, consequences_declared, message_render, sample_context
from letters.sandbox import HTML, TEXT, consequences_in, render

# --- the rules --------------------------------------------------------------------------

LIVE = Facts(
    debtor_type="business",
    country="GB",
    interest_enabled=True,
    fees_agreed=True,
    credit_hold_possible=True,
    reports_to_agencies=True,
)


def _with(**changes) -> Facts:
    return Facts(**{**LIVE.__dict__, **changes})


def test_a_live_business_debt_with_everything_agreed_may_state_every_consequence():
    verdict = consequences_allowed(LIVE)

    assert verdict.allowed == frozenset(CONSEQUENCES)
    assert verdict.refused == {}


@pytest.mark.parametrize("debtor_type", ["business", "sole_trader", "consumer"])
@pytest.mark.parametrize("rule", ["soft", "stop"])
def test_a_barred_debt_is_never_threatened_with_court_or_referral(debtor_type, rule):
    verdict = consequences_allowed(
        _with(debtor_type=debtor_type, barred=True, barred_rule=rule, barred_invoices=("INV-1",))
    )

    assert not verdict.allows("legal_action")
    assert not verdict.allows("referral")
    assert verdict.refused["legal_action"] == (
        "INV-1 is past its limitation date, so no legal action or referral may be threatened"
    )


def test_the_soft_rule_for_barred_debts_allows_no_charges_and_no_threats():
    verdict = consequences_allowed(_with(barred=True, barred_invoices=("INV-1", "INV-2")))

    assert verdict.allowed == frozenset()
    assert verdict.refused["interest"] == (
        "INV-1 and INV-2 are past their limitation dates, and the policy sends soft "
        "reminders only: no interest may be claimed"
    )
    assert verdict.refused["credit_hold"].endswith("no credit hold may be threatened")


def test_the_stop_rule_for_barred_debts_says_the_policy_stops_chasing():
    verdict = consequences_allowed(_with(barred=True, barred_rule="stop"))

    assert "the policy stops chasing such debts" in verdict.refused["credit_hold"]


def test_interest_and_compensation_need_a_claim_that_applies():
    verdict = consequences_allowed(_with(interest_enabled=False))

    assert not verdict.allows("interest") and not verdict.allows("compensation")
    assert verdict.allows("legal_action", "fees")
    assert "no statutory or contractual" in verdict.why_not(["interest", "compensation"])
    assert ";" not in verdict.why_not(["interest", "compensation"])  # one reason, said once


def test_fees_need_the_customers_agreement():
    verdict = consequences_allowed(_with(fees_agreed=False))

    assert verdict.refused == {"fees": "the customer's accepted terms give no late fee"}


def test_a_credit_hold_is_threatened_only_where_there_is_credit_to_stop():
    assert not consequences_allowed(_with(credit_hold_possible=False)).allows("credit_hold")


def test_reporting_is_threatened_only_by_a_firm_that_reports():
    verdict = consequences_allowed(_with(reports_to_agencies=False))

    assert verdict.refused["reporting"] == "this firm does not report debts to credit agencies"


@pytest.mark.parametrize(
    ("role", "region", "law"),
    [("agency", "NY", " (FDCPA)"), ("creditor", "CA", " (Rosenthal Act)"), ("creditor", "NY", "")],
)
def test_a_barred_us_consumer_debt_names_the_law_that_forbids_the_threat(role, region, law):
    verdict = consequences_allowed(
        Facts(debtor_type="consumer", creditor_role=role, country="US", region=region, barred=True)
    )

    assert verdict.refused["legal_action"] == (
        "an invoice covered is past its limitation date, so no legal action or referral may "
        f"be threatened{law}"
    )


# --- the tag ----------------------------------------------------------------------------

SENTENCE = 'Pay now.{% consequence "legal_action" %} We may sue.{% endconsequence %}'
REQUIRED = 'Pay now.{% consequence "referral" required %} We will refer it.{% endconsequence %}'


@pytest.mark.django_db
def test_an_allowed_consequence_is_shown():
    assert render(SENTENCE, sample_context(), engine=TEXT, field="Plain text") == (
        "Pay now. We may sue."
    )


@pytest.mark.django_db
def test_a_refused_optional_consequence_is_left_out():
    context = sample_context(debtor_type="consumer", barred=True)

    assert render(SENTENCE, context, engine=TEXT, field="Plain text") == "Pay now."


@pytest.mark.django_db
def test_a_refused_required_consequence_stops_the_message_and_says_why():
    context = sample_context(debtor_type="consumer", barred=True)
    parts = Parts(subject="Final demand", body_text=REQUIRED, body_html="", name="Final demand")

    with pytest.raises(ConsequenceRefused) as refused:
        message_render(parts, context)

    assert str(refused.value) == (
        "Final demand not sent: INV-1001 is past its limitation date, so no legal action or "
        "referral may be threatened"
    )
    assert refused.value.consequences == ("referral",)


@pytest.mark.django_db
def test_a_refusal_inside_a_condition_or_loop_still_stops_the_message():
    context = sample_context(barred=True)
    source = "{% for line in invoices %}{% if line.number %}" + REQUIRED + "{% endif %}{% endfor %}"

    with pytest.raises(ConsequenceRefused):
        render(source, context, engine=HTML, field="HTML email")


def test_a_context_without_the_check_allows_nothing():
    assert render(SENTENCE, {}, engine=TEXT, field="Plain text") == "Pay now."
    with pytest.raises(ConsequenceRefused, match="no consequence check was made"):
        render(REQUIRED, {}, engine=TEXT, field="Plain text")


def test_several_consequences_in_one_tag_all_need_to_be_allowed():
    source = '{% consequence "interest" "compensation" %}Interest and £40.{% endconsequence %}'
    half = {"consequences": _record(allowed=("interest",), refused={"compensation": "no"})}

    assert render(source, half, engine=TEXT, field="Plain text") == ""


def test_an_unknown_consequence_is_reported_with_its_line():
    with pytest.raises(TemplateProblem) as problem:
        render(
            'Hello\n{% consequence "court" %}x{% endconsequence %}', {}, engine=TEXT, field="Letter"
        )

    assert problem.value.line == 2
    assert 'unknown consequence "court"' in problem.value.problem


def test_the_consequences_a_template_states_are_listed_with_required_ones_marked():
    parts = Parts(
        subject="Owed",
        body_text='{% consequence "interest" "compensation" %}x{% endconsequence %}' + REQUIRED,
        body_html='{% include "footer.html" %}'
        '{% consequence "interest" required %}{% endconsequence %}',
        letter_html=SENTENCE,
    )

    declared = [(d.label, d.required) for d in consequences_declared(parts)]

    assert declared == [
        ("interest", True),
        ("compensation", False),
        ("referral for recovery", True),
        ("legal action", False),
    ]


def test_consequences_in_included_partials_are_found(monkeypatch):
    clause = '{% consequence "fees" required %}A £40 fee applies.{% endconsequence %}'
    monkeypatch.setattr(sandbox, "_partials", lambda: {"clause.txt": clause})
    engine = sandbox._engine(autoescape=False)

    found = consequences_in('Pay.{% include "clause.txt" %}', engine=engine, field="Plain text")

    assert found == [("fees", True)]


def _record(*, allowed, refused):
    from letters.context import Record

    return Record(allowed=allowed, refused=Record(**refused))
