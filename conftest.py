import datetime as dt

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ADMIN, COLLECTOR, MANAGER

TODAY = dt.date(2026, 3, 15)


@pytest.fixture
def today():
    return TODAY


def _user(django_user_model, username, role):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def collector(db, django_user_model):
    return _user(django_user_model, "colin", COLLECTOR)


@pytest.fixture
def manager(db, django_user_model):
    return _user(django_user_model, "maria", MANAGER)


@pytest.fixture
def admin_user(db, django_user_model):
    return _user(django_user_model, "ada", ADMIN)


@pytest.fixture
def no_role_user(db, django_user_model):
    return _user(django_user_model, "nora", None)


@pytest.fixture
def collector_client(client, collector):
    client.force_login(collector)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client
