"""What the page benchmarks share: a client signed in as a manager."""

from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client, override_settings

from .roles import MANAGER


@contextmanager
def signed_in_manager(username: str):
    """A test client signed in as a new manager, inside a transaction that is rolled back
    on the way out, with everything else the caller adds. Pages render with plain static
    storage, so no collectstatic manifest is needed."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages), transaction.atomic():
        manager = get_user_model().objects.create_user(username=username)
        manager.groups.add(Group.objects.get(name=MANAGER))
        hosts = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith((".", "*"))]
        client = Client(HTTP_HOST=hosts[0] if hosts else "localhost")
        client.force_login(manager)
        yield client, manager
        transaction.set_rollback(True)
