import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import Scope
from dunning.models import Policy
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.aging import DEFAULT_EDGES, aging, buckets_for
from reports.metrics import monthly_figures

AGING = "/api/v1/reports/aging/"
METRICS = "/api/v1/reports/metrics/"


@pytest.fixture
def ledger(db):
    """Open invoices in two currencies, spread over the buckets."""
    today = timezone.localdate()
    gbp, eur = CustomerFactory(currency="GBP"), CustomerFactory(currency="EUR")
    for customer, days_late, amount in [
        (gbp, -10, "100.00"),  # not yet due
        (gbp, 5, "200.50"),
        (gbp, 45, "300.25"),
        (gbp, 120, "400.00"),
        (eur, 70, "999.99"),
    ]:
        due = today - dt.timedelta(days=days_late)
        InvoiceFactory(
            customer=customer,
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            amount=Decimal(amount),
        )
    return today


def _ar_report(as_of, currency):
    out = io.StringIO()
    call_command("ar_report", "--as-of", as_of.isoformat(), "--currency", currency, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("days_back", [0, 40])
def test_aging_is_the_ar_report_figures(api, ledger, days_back):
    as_of = ledger - dt.timedelta(days=days_back)

    body = api.get(AGING, {"as_of": as_of.isoformat()}).json()

    assert [row["currency"] for row in body] == ["EUR", "GBP"]
    for row in body:
        report = _ar_report(as_of, row["currency"])
        assert row["as_of"] == report["as_of"] and row["total_open"] == report["total_open"]
        assert [(b["bucket"], b["count"], b["amount"]) for b in row["buckets"]] == [
            (b["label"], b["count"], b["amount"]) for b in report["buckets"]
        ]
        (selected,) = aging(
            as_of=as_of, today=ledger, buckets=buckets_for(DEFAULT_EDGES), currency=row["currency"]
        )
        assert [b["amount"] for b in row["buckets"]] == [str(a) for a in selected.amounts]
        assert row["count"] == selected.count


def test_aging_today_in_one_currency_shows_each_bucket(api, ledger):
    body = api.get(AGING, {"currency": "gbp"}).json()

    assert len(body) == 1
    buckets = {b["bucket"]: (b["count"], b["amount"]) for b in body[0]["buckets"]}
    assert buckets["current"] == (1, "100.00")
    assert buckets["1-30"] == (1, "200.50")
    assert buckets["31-60"] == (1, "300.25")
    assert buckets["90+"] == (1, "400.00")
    assert body[0]["total_open"] == "1000.75" and body[0]["count"] == 4


def test_report_parameters_are_checked(api, ledger):
    tomorrow = (ledger + dt.timedelta(days=1)).isoformat()

    future = api.get(AGING, {"as_of": tomorrow})
    garbled = api.get(AGING, {"as_of": "yesterday"})
    unknown = api.get(METRICS, {"currency": "JPY"})
    months = api.get(METRICS, {"months": "99"})

    for response, field in [
        (future, "as_of"),
        (garbled, "as_of"),
        (unknown, "currency"),
        (months, "months"),
    ]:
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == field


def test_metrics_are_the_dashboards_monthly_figures(api, ledger):
    body = api.get(METRICS, {"currency": "GBP", "months": "3"}).json()

    figures = monthly_figures(as_of=ledger, currency="GBP", months=3)
    assert [row["period_end"] for row in body] == [f.month_end.isoformat() for f in figures]
    last, month = body[-1], figures[-1]
    assert last["ar_close"] == str(month.ar_close)
    assert last["dso"] == (None if month.dso is None else str(month.dso))
    assert last["cei"] == (None if month.cei is None else str(month.cei))
    assert last["best_possible_dso"] == (None if month.best_dso is None else str(month.best_dso))
    report = _ar_report(ledger, "GBP")
    assert (float(last["dso"]) if last["dso"] else None) == report["dso"]


def test_policies_show_their_current_steps(api, db):
    policy = Policy.objects.get(is_default=True)
    current = policy.current_version

    body = api.get(f"/api/v1/policies/{policy.pk}/").json()

    assert body["name"] == policy.name and body["is_default"] is True
    assert body["version"] == current.number
    assert [step["name"] for step in body["steps"]] == [
        step.name for step in current.steps.order_by("position")
    ]
    assert api.post("/api/v1/policies/", {}, format="json").status_code == 405  # read-only


def test_reports_need_the_read_scope(make_token, ledger):
    _, raw = make_token(scopes=(Scope.WRITE_COLLECTIONS,))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get(AGING).status_code == 403
    assert client.get(METRICS).status_code == 403
    assert APIClient().get(AGING).status_code == 401


def test_aging_costs_the_same_queries_for_few_or_many_invoices(api, ledger):
    api.get(AGING)  # the token's first use writes last_used_at

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get(AGING).status_code == 200
        return len(queries)

    few = count()
    customer = CustomerFactory(currency="GBP")
    for _ in range(30):
        InvoiceFactory(customer=customer, due_date=ledger - dt.timedelta(days=3))

    assert count() == few
