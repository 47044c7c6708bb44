"""Every URL of the project and the least role that may open it.

A URL missing from ROUTES fails test_every_url_has_an_entry: decide who may open a new page
when you add it. Roles nest: an Admin may do all a Manager may, a Manager all a Collector may.
"""

import uuid
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.static import serve

from accounts.roles import ADMIN, COLLECTOR, MANAGER
from dunning.models import Policy
from invoices.tests.factories import InvoiceFactory
from letters.models import Template

PUBLIC = "public"  # no login needed
ANY_USER = "any user"  # logged in, with or without a role
RANKS = [COLLECTOR, MANAGER, ADMIN]


@dataclass(frozen=True)
class Route:
    minimum: str
    method: str = "get"
    data: dict = field(default_factory=dict)
    ok: int = 200
    # Another helper's pages whose arguments this test cannot know: the right role must
    # simply not be refused (it may get a redirect to the first step, or a 404).
    lenient: bool = False


ROUTES = {
    "login": Route(PUBLIC),
    "logout": Route(PUBLIC, method="post", ok=302),
    "password_change": Route(ANY_USER),
    "password_change_done": Route(ANY_USER),
    "home": Route(COLLECTOR, ok=302),
    "queue": Route(COLLECTOR),
    # No customer ticked: a message and back to the queue.
    "queue_bulk": Route(COLLECTOR, method="post", data={"action": "hold"}, ok=302),
    "customer_list": Route(COLLECTOR),
    "customer_detail": Route(COLLECTOR),
    "customer_call": Route(COLLECTOR),
    "customer_promise": Route(COLLECTOR),
    # No promise named: a message and back to the customer.
    "customer_promise_cancel": Route(COLLECTOR, method="post", ok=302),
    "customer_dispute": Route(COLLECTOR),
    "customer_dispute_resolve": Route(COLLECTOR),
    "customer_plan": Route(COLLECTOR),
    "customer_plan_preview": Route(COLLECTOR),
    "customer_note": Route(COLLECTOR),
    "customer_hold": Route(COLLECTOR),
    "customer_acknowledgement": Route(COLLECTOR),
    "customer_documents_request": Route(COLLECTOR),
    "customer_hold_release": Route(COLLECTOR, method="post", ok=302),
    "customer_send": Route(COLLECTOR),
    "customer_move": Route(COLLECTOR),
    "customer_edit": Route(COLLECTOR),
    "new_customer": Route(COLLECTOR),
    "customer_contact_add": Route(COLLECTOR),
    "contact_edit": Route(COLLECTOR, ok=404),  # no contact in this test's world
    "customer_payment": Route(COLLECTOR),
    "customer_credit_note": Route(COLLECTOR),
    "customer_payment_reverse": Route(COLLECTOR),
    "cash_unapplied": Route(COLLECTOR),
    # No payment named: a message and back to the list.
    "cash_apply": Route(COLLECTOR, method="post", data={"apply": "selected"}, ok=302),
    "inbox:list": Route(COLLECTOR),
    "inbox:unassigned": Route(COLLECTOR),
    "inbox:handled_list": Route(COLLECTOR),
    "inbox:handled": Route(COLLECTOR, method="post", ok=404),  # no reply in this world
    "inbox:assign": Route(COLLECTOR, method="post", ok=404),
    "inbox:attachment": Route(COLLECTOR, ok=404),
    "invoice_list": Route(COLLECTOR),
    "invoice_detail": Route(COLLECTOR),
    # No reason given: a message and back to the invoice.
    "invoice_write_off_propose": Route(COLLECTOR, method="post", ok=302),
    "write_off_list": Route(MANAGER),
    # No request exists in this test's world: the right role gets past the check to a 404.
    "write_off_decide": Route(MANAGER, method="post", ok=404),
    "write_off_withdraw": Route(COLLECTOR, method="post", ok=404),
    "reports:dashboard": Route(MANAGER),
    "reports:aging_drill": Route(MANAGER, data={"bucket": "current"}),
    "reports:export": Route(MANAGER),
    "reports:credit_holds": Route(MANAGER),
    "settings": Route(ADMIN),
    "user_new": Route(ADMIN),
    "user_role": Route(ADMIN, method="post", data={"role": COLLECTOR}, ok=302),
    "user_active": Route(ADMIN, method="post", data={"active": "0"}, ok=302),
    "lockout_list": Route(ADMIN),
    # Nothing named to unlock: a message and back to the list.
    "lockout_unlock": Route(ADMIN, method="post", ok=302),
    "api_tokens:list": Route(ADMIN),
    "api_tokens:new": Route(ADMIN),
    "api_tokens:created": Route(ADMIN, ok=404),  # no token in this world
    "api_tokens:revoke": Route(ADMIN, method="post", ok=404),  # no token in this world
    # The API: a bearer token, not a login, gets in (api/tests); without one, 401.
    "api:schema": Route(PUBLIC),
    "api:docs": Route(PUBLIC),
    "api:customer-list": Route(PUBLIC, ok=401),
    "api:customer-detail": Route(PUBLIC, ok=401),
    "api:invoice-list": Route(PUBLIC, ok=401),
    "api:invoice-detail": Route(PUBLIC, ok=401),
    "api:contact-list": Route(PUBLIC, ok=401),
    "api:contact-detail": Route(PUBLIC, ok=401),
    "api:payment-list": Route(PUBLIC, ok=401),
    "api:payment-detail": Route(PUBLIC, ok=401),
    "api:payment-reverse": Route(PUBLIC, method="post", ok=401),
    "api:payment-allocate": Route(PUBLIC, method="post", ok=401),
    "api:credit-note-list": Route(PUBLIC, ok=401),
    "api:credit-note-detail": Route(PUBLIC, ok=401),
    "api:invoice-copy-list": Route(PUBLIC, ok=401),
    "api:customer-bulk": Route(PUBLIC, method="post", ok=401),
    "api:invoice-bulk": Route(PUBLIC, method="post", ok=401),
    "api:payment-bulk": Route(PUBLIC, method="post", ok=401),
    "api:dispute-list": Route(PUBLIC, ok=401),
    "api:dispute-detail": Route(PUBLIC, ok=401),
    "api:dispute-resolve": Route(PUBLIC, method="post", ok=401),
    "api:promise-list": Route(PUBLIC, ok=401),
    "api:promise-detail": Route(PUBLIC, ok=401),
    "api:promise-cancel": Route(PUBLIC, method="post", ok=401),
    "api:plan-list": Route(PUBLIC, ok=401),
    "api:plan-detail": Route(PUBLIC, ok=401),
    "api:plan-cancel": Route(PUBLIC, method="post", ok=401),
    "api:task-complete": Route(PUBLIC, method="post", ok=401),
    "api:note-list": Route(PUBLIC, ok=401),
    "api:touch-list": Route(PUBLIC, ok=401),
    "api:touch-detail": Route(PUBLIC, ok=401),
    "api:task-list": Route(PUBLIC, ok=401),
    "api:task-detail": Route(PUBLIC, ok=401),
    "api:policy-list": Route(PUBLIC, ok=401),
    "api:policy-detail": Route(PUBLIC, ok=401),
    "api:report-aging-list": Route(PUBLIC, ok=401),
    "api:report-metrics-list": Route(PUBLIC, ok=401),
    "api:not_found": Route(PUBLIC, ok=404),
    "import:start": Route(ADMIN, lenient=True),
    "import:map": Route(ADMIN, lenient=True),
    "import:preview": Route(ADMIN, lenient=True),
    "import:confirm": Route(ADMIN, method="post", lenient=True),
    "import:result": Route(ADMIN, lenient=True),
    # A job's page: any role gets past the door, then the job's own rule (jobs/tests); the
    # dummy id names no job.
    "jobs:detail": Route(COLLECTOR, ok=404),
    "jobs:file": Route(COLLECTOR, ok=404),
    "dunning:policy_list": Route(ADMIN),
    "dunning:policy_detail": Route(ADMIN),
    "dunning:policy_edit": Route(ADMIN),
    "dunning:policy_move": Route(ADMIN),
    "dunning:policy_default": Route(ADMIN, method="post", ok=302),
    "dunning:policy_interest": Route(ADMIN, method="post", data={"interest_regime": "uk"}, ok=302),
    "dunning:policy_barred": Route(ADMIN, method="post", data={"barred_debts": "stop"}, ok=302),
    "dunning:policy_repeat": Route(ADMIN, method="post", data={"repeat_every_days": "14"}, ok=302),
    "dunning:policy_rules": Route(ADMIN),
    # No rule exists in this test's world: the right role gets past the check to a 404.
    "dunning:policy_rule_edit": Route(ADMIN, ok=404),
    "dunning:policy_rule_remove": Route(ADMIN, method="post", ok=404),
    "dunning:settings": Route(ADMIN),
    "dunning:customer_policy": Route(ADMIN, method="post", ok=302),
    "calls": Route(COLLECTOR),
    # No task exists in this test's world: the right role gets past the check to a 404.
    "task_complete": Route(COLLECTOR, method="post", ok=404),
    # No check task exists in this test's world: the right role gets past the check to a 404.
    "message_settle": Route(COLLECTOR, method="post", ok=404),
    "dunning:preview": Route(MANAGER),
    "dunning:referral_list": Route(MANAGER),
    # No referral exists in this test's world: the right role gets past the check to a 404
    # (deciding one that does not exist reports it and returns to its page).
    "dunning:referral_detail": Route(MANAGER, ok=404),
    "dunning:referral_decide": Route(MANAGER, method="post", ok=302),
    # Public: the signed token is the proof; the dummy token of this test is refused.
    "dunning:opt_out": Route(PUBLIC, ok=404),
    # The customer's page: the token is the proof; a made-up one gets the plain 404.
    "portal:page": Route(PUBLIC, ok=404),
    "portal:statement": Route(PUBLIC, ok=404),
    "portal:invoice_copy": Route(PUBLIC, ok=404),
    "portal:letter": Route(PUBLIC, ok=404),
    "portal:contact": Route(PUBLIC, ok=404),
    "portal:opt_out": Route(PUBLIC, ok=404),
    "portal:link_make": Route(COLLECTOR, method="post", ok=404),  # no contact in this world
    "portal:links_revoke": Route(COLLECTOR, method="post", ok=404),
    "portal:dispute": Route(PUBLIC, ok=404),
    "portal:dispute_done": Route(PUBLIC, ok=404),
    "portal:promise": Route(PUBLIC, ok=404),
    "portal:promise_done": Route(PUBLIC, ok=404),
    "portal:evidence": Route(COLLECTOR, ok=404),  # no customer's upload in this test's world
    "portal:plan_request": Route(PUBLIC, ok=404),
    "portal:plan_request_schedule": Route(PUBLIC, ok=404),
    "portal:request_accept": Route(PUBLIC, ok=404),
    "portal:requests": Route(COLLECTOR),
    "portal:request_detail": Route(COLLECTOR, ok=404),  # no request in this world
    "portal:pay": Route(PUBLIC, ok=404),
    "portal:pay_done": Route(PUBLIC, ok=404),
    "portal:check": Route(PUBLIC, ok=404),
    "portal:check_in_order": Route(PUBLIC, ok=404),
    "portal:check_problem": Route(PUBLIC, ok=404),
    # Stripe's webhook: its signature is the proof; an unsigned post is refused.
    "portal:stripe_webhook": Route(PUBLIC, method="post", ok=400),
    "letters:template_list": Route(ADMIN),
    "letters:template_edit": Route(ADMIN),
    "letters:template_preview": Route(ADMIN, method="post"),
    # An empty edit has no letter to render: the right role gets past the check to a 400.
    "letters:template_preview_pdf": Route(ADMIN, method="post", ok=400),
    "letters:settings": Route(ADMIN),
    "letters:settings_logo": Route(ADMIN, ok=404),  # no logo uploaded in this test's world
    "letters:reference_rates": Route(ADMIN),
    "webhooks:endpoint_list": Route(ADMIN),
    "webhooks:endpoint_new": Route(ADMIN),
    # No endpoint or delivery in this world: the admin gets through to a 404.
    "webhooks:endpoint_detail": Route(ADMIN, ok=404),
    "webhooks:endpoint_edit": Route(ADMIN, ok=404),
    "webhooks:endpoint_rotate": Route(ADMIN, method="post", ok=404),
    "webhooks:endpoint_enable": Route(ADMIN, method="post", ok=404),
    "webhooks:delivery_replay": Route(ADMIN, method="post", ok=404),
    "letters:print_batch": Route(MANAGER),
    "letters:document": Route(COLLECTOR, ok=404),  # no document in this test's world
    "letters:statement": Route(COLLECTOR),
    "invoice_copies:attach": Route(COLLECTOR),
    "invoice_copies:download": Route(COLLECTOR, ok=404),  # no copy in this test's world
    "invoice_copies:import": Route(COLLECTOR),
    # No ZIP uploaded yet: a message and back to the upload.
    "invoice_copies:report": Route(COLLECTOR, ok=302),
    # For load balancers, no login: this world has invoices and no dunning run yet, so 503.
    "ops:healthz": Route(PUBLIC, ok=503),
    # For Prometheus, with its token (ops/tests); without METRICS_TOKEN, no such page.
    "ops:metrics": Route(PUBLIC, ok=404),
}


def project_urls():
    """(name, pattern) for every URL pattern outside the Django admin, static files and the
    ESP tracking webhooks (anymail checks the ESP's shared secret instead of a login)."""

    def walk(patterns, namespace, prefix):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if entry.namespace in ("admin", "anymail") or route.startswith("admin/"):
                    continue
                inner = ":".join(filter(None, [namespace, entry.namespace]))
                yield from walk(entry.url_patterns, inner, route)
            elif isinstance(entry, URLPattern) and entry.callback is not serve:
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                yield name, entry

    return list(walk(get_resolver().url_patterns, "", ""))


def test_every_url_has_an_entry():
    found = project_urls()
    unnamed = [str(entry.pattern) for name, entry in found if not name]
    unlisted = sorted(name for name, _entry in found if name and name not in ROUTES)
    assert not unnamed, f"Give these URL patterns a name and a ROUTES entry: {unnamed}"
    assert not unlisted, f"Add these URLs to ROUTES with their minimum role: {unlisted}"


def test_every_listed_url_of_ours_exists():
    names = {name for name, _entry in project_urls()}
    missing = sorted(set(ROUTES) - names)
    assert not missing, f"ROUTES lists URLs that no longer exist: {missing}"


@pytest.fixture
def world(db, django_user_model, collector):
    """Objects for URLs that take an id. The customer is the collector's, so the owner rule
    (tests/test_ownership.py) does not refuse the least role here."""
    invoice = InvoiceFactory(customer__collector=collector)
    target = django_user_model.objects.create_user(username="target", password="pw-target")
    target.groups.add(Group.objects.get(name=COLLECTOR))
    return {"customer": invoice.customer, "invoice": invoice, "user": target}


def _default_policy_pk():
    return Policy.objects.get(is_default=True).pk


def _kwargs(name, world):
    known = {
        "customer_detail": {"pk": world["customer"].pk},
        "invoice_detail": {"pk": world["invoice"].pk},
        "reports:export": {"report": "aging", "fmt": "csv"},
        "invoice_write_off_propose": {"pk": world["invoice"].pk},
        "user_role": {"pk": world["user"].pk},
        "user_active": {"pk": world["user"].pk},
        **{
            name: {"pk": world["customer"].pk}
            for name in ROUTES
            if name.startswith("customer_") and name != "customer_list"
        },
        "dunning:customer_policy": {"pk": world["customer"].pk},
        "letters:statement": {"pk": world["customer"].pk},
        "invoice_copies:attach": {"pk": world["invoice"].pk},
        "invoice_copies:download": {"pk": world["invoice"].pk},
        **{
            f"letters:{name}": {"pk": Template.objects.order_by("pk").first().pk}
            for name in ("template_edit", "template_preview", "template_preview_pdf")
        },
        **{
            f"dunning:{name}": {"pk": _default_policy_pk()}
            for name in ("policy_detail", "policy_edit", "policy_move", "policy_default")
            + ("policy_interest", "policy_barred", "policy_repeat")
        },
    }
    if name in known:
        return known[name]
    entry = dict(project_urls())[name]
    dummy = {"int": 1, "uuid": uuid.uuid4(), "path": "x"}
    return {
        key: dummy.get(type(converter).__name__.replace("Converter", "").lower(), "x")
        for key, converter in entry.pattern.converters.items()
    }


def _request(client, name, world):
    if name not in dict(project_urls()):
        pytest.fail(f"{name} is in ROUTES but not in the URL configuration")
    route = ROUTES[name]
    url = reverse(name, kwargs=_kwargs(name, world))
    return getattr(client, route.method)(url, route.data)


def _user_for(role, collector, manager, admin_user):
    return {COLLECTOR: collector, MANAGER: manager, ADMIN: admin_user}[role]


GUARDED = [name for name, route in ROUTES.items() if route.minimum != PUBLIC]
ROLE_GUARDED = [name for name, route in ROUTES.items() if route.minimum in RANKS]
BELOW_MINIMUM = [
    (name, role) for name in ROLE_GUARDED for role in RANKS[: RANKS.index(ROUTES[name].minimum)]
]


@pytest.mark.parametrize("name", GUARDED)
def test_anonymous_visitors_are_sent_to_log_in(client, world, name):
    response = _request(client, name, world)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ROLE_GUARDED)
def test_a_user_without_a_role_is_refused(client, world, no_role_user, name):
    client.force_login(no_role_user)

    assert _request(client, name, world).status_code == 403


@pytest.mark.parametrize(("name", "role"), BELOW_MINIMUM)
def test_a_role_below_the_minimum_is_refused(
    client, world, collector, manager, admin_user, name, role
):
    client.force_login(_user_for(role, collector, manager, admin_user))

    assert _request(client, name, world).status_code == 403


@pytest.mark.parametrize("name", list(ROUTES))
def test_the_minimum_role_gets_in(
    client, world, collector, manager, admin_user, no_role_user, name
):
    route = ROUTES[name]
    if route.minimum in RANKS:
        client.force_login(_user_for(route.minimum, collector, manager, admin_user))
    elif route.minimum == ANY_USER:
        client.force_login(no_role_user)

    response = _request(client, name, world)

    if route.lenient:
        assert response.status_code not in (403, 405) and response.status_code < 500
        assert not (response.status_code == 302 and response.url.startswith(reverse("login")))
    else:
        assert response.status_code == route.ok


@pytest.mark.parametrize("name", [n for n in ROLE_GUARDED if not ROUTES[n].lenient])
def test_the_view_declares_the_same_minimum_role(name):
    entry = dict(project_urls())[name]

    assert getattr(entry.callback, "minimum_role", None) == ROUTES[name].minimum
