import pytest

from accounts.services import organisation_update, user_deactivate, user_reactivate
from audit.models import AuditEvent
from invoices.models import Organisation

pytestmark = pytest.mark.django_db


def test_changing_the_organisation_records_before_and_after(admin_user):
    organisation_update(actor=admin_user, name="Harbour Trading", default_currency="GBP")

    event = AuditEvent.objects.get(action="settings.organisation.updated")
    assert event.data["changes"] == {"name": ["My Company Ltd", "Harbour Trading"]}
    assert event.actor == admin_user


def test_saving_the_organisation_unchanged_records_nothing(admin_user):
    org = Organisation.current()

    changes = organisation_update(actor=admin_user, name=org.name)

    assert changes == {}
    assert not AuditEvent.objects.filter(action="settings.organisation.updated").exists()


def test_a_bad_currency_is_refused(admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        organisation_update(actor=admin_user, default_currency="XYZ")

    assert Organisation.current().default_currency == "GBP"


def test_deactivating_a_user_is_audited(admin_user, collector):
    user_deactivate(actor=admin_user, user=collector)

    collector.refresh_from_db()
    assert not collector.is_active
    assert AuditEvent.objects.filter(action="accounts.user.deactivated").count() == 1


def test_deactivating_an_inactive_user_changes_nothing(admin_user, collector):
    user_deactivate(actor=admin_user, user=collector)
    user_deactivate(actor=admin_user, user=collector)

    assert AuditEvent.objects.filter(action="accounts.user.deactivated").count() == 1


def test_reactivating_a_user_is_audited(admin_user, collector):
    user_deactivate(actor=admin_user, user=collector)

    user_reactivate(actor=admin_user, user=collector)

    collector.refresh_from_db()
    assert collector.is_active
    assert AuditEvent.objects.filter(action="accounts.user.reactivated").count() == 1


def test_nobody_can_deactivate_themselves(admin_user):
    with pytest.raises(ValueError, match="your own account"):
        user_deactivate(actor=admin_user, user=admin_user)
