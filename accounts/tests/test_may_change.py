"""Who may change a customer (accounts.roles): the rule every view asks."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from accounts.roles import (
    COLLECTOR,
    changeable,
    may_change,
    read_only_notice,
    require_change,
)
from invoices.models import Customer
from invoices.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cara(django_user_model):
    user = django_user_model.objects.create_user(
        username="cara", first_name="Cara", last_name="Collector"
    )
    user.groups.add(Group.objects.get(name=COLLECTOR))
    return user


def test_a_collector_may_change_their_own_customer(collector):
    assert may_change(collector, CustomerFactory(collector=collector))


def test_a_collector_may_not_change_a_colleagues_customer(collector, cara):
    assert not may_change(collector, CustomerFactory(collector=cara))


def test_a_collector_may_not_change_an_unassigned_customer(collector):
    assert not may_change(collector, CustomerFactory(collector=None))


def test_managers_and_admins_may_change_any_customer(manager, admin_user, cara):
    theirs, nobodys = CustomerFactory(collector=cara), CustomerFactory(collector=None)

    assert all(may_change(u, c) for u in (manager, admin_user) for c in (theirs, nobodys))


def test_a_user_without_a_role_may_change_nothing_even_if_assigned(no_role_user):
    assert not may_change(no_role_user, CustomerFactory(collector=no_role_user))


def test_the_refusal_names_whose_customer_it_is(collector, cara):
    customer = CustomerFactory(name="Saltmarsh Interiors", collector=cara)

    with pytest.raises(PermissionDenied) as refused:
        require_change(collector, customer)

    assert str(refused.value) == (
        "Saltmarsh Interiors is Cara Collector's customer: you can read it but not change it."
    )


def test_the_refusal_of_an_unassigned_customer_points_to_a_manager(collector):
    customer = CustomerFactory(name="Saltmarsh Interiors", collector=None)

    with pytest.raises(PermissionDenied, match="only a manager can change it or assign it"):
        require_change(collector, customer)


def test_the_owner_is_not_refused(collector):
    require_change(collector, CustomerFactory(collector=collector))


def test_a_colleague_without_a_full_name_is_named_by_their_username(collector, manager):
    customer = CustomerFactory(collector=manager)

    assert read_only_notice(collector, customer) == "maria's customer: read only"
    assert read_only_notice(manager, customer) == ""


def test_only_the_collectors_own_customers_are_changeable_at_once(collector, manager, cara):
    mine = CustomerFactory(collector=collector)
    CustomerFactory(collector=cara)
    CustomerFactory(collector=None)

    assert list(changeable(collector, Customer.objects.all())) == [mine]
    assert changeable(manager, Customer.objects.all()).count() == 3
