"""The template editor shows the consequence check: what the template states, and whether
each may be said to the sample customer, switched between debtor types and limitation."""

import pytest
from django.urls import reverse

from .test_views import _edit, _template

pytestmark = pytest.mark.django_db

STATES = (
    "This template states: interest (optional), compensation (optional), referral for "
    "recovery (required), legal action (optional)."
)
BARRED = "INV-1001 is past its limitation date, so no legal action or referral may be threatened"


def _editor(client, key="final_demand", **query) -> str:
    url = reverse("letters:template_edit", args=[_template(key).pk])
    return " ".join(client.get(url, query).content.decode().split())


def test_the_editor_lists_the_consequences_the_template_states(admin_client_):
    page = _editor(admin_client_)

    assert STATES in page
    assert "For the sample customer (business, debt within its limitation period):" in page
    assert "<strong>Referral for recovery:</strong> may be said." in page


def test_a_time_barred_consumer_sample_shows_what_is_refused_and_why(admin_client_):
    page = _editor(admin_client_, sample_debtor="consumer", sample_barred="1")

    assert "For the sample customer (consumer, debt past its limitation date):" in page
    assert f"not allowed, because {BARRED}. The message would not be sent" in page
    assert '<option value="consumer" selected>' in page
    assert '<option value="1" selected>past its limitation date</option>' in page


def test_a_template_stating_nothing_says_so(admin_client_):
    page = _editor(admin_client_, "friendly_reminder")

    assert "This template states no consequences" in page


def test_the_live_preview_follows_the_sample_and_refuses_a_required_threat(admin_client_):
    template = _template("final_demand")
    data = {**_edit(template), "sample_debtor": "consumer", "sample_barred": "1"}

    response = admin_client_.post(
        reverse("letters:template_preview", args=[template.pk]), data, HTTP_HX_REQUEST="true"
    )

    page = " ".join(response.content.decode().split())
    assert f"This cannot be sent:</strong> Final demand not sent: {BARRED}" in page
    assert 'id="consequence-check"' in page and 'hx-swap-oob="true"' in page
    assert STATES in page


def test_the_live_preview_of_a_live_debt_leaves_nothing_out(admin_client_):
    template = _template("firm_reminder")
    data = {**_edit(template), "sample_debtor": "sole_trader", "interest": "uk"}

    response = admin_client_.post(reverse("letters:template_preview", args=[template.pk]), data)

    page = response.content.decode()
    assert "late-payment charges" in page
    assert "we may put further credit on hold" in page
    assert "For the sample customer (sole trader, debt within its limitation period):" in page
