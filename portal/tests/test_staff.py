import re

import pytest
from django.urls import reverse

from invoices.tests.factories import ContactFactory
from portal.models import PortalLink

pytestmark = pytest.mark.django_db


def test_a_collector_makes_a_link_shown_once_and_revokes_it(client, collector):
    contact = ContactFactory(customer__collector=collector)
    client.force_login(collector)

    customer_page = reverse("customer_detail", args=[contact.customer_id])
    assert "Customer page link" in client.get(customer_page).text
    made = client.post(reverse("portal:link_make", args=[contact.pk]), follow=True)
    url = re.search(r"https?://\S+/c/[\w-]+/", made.text).group(0)
    page = url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])
    assert client.get(page).status_code == 200
    assert url not in client.get(reverse("customer_detail", args=[contact.customer_id])).text

    client.post(reverse("portal:links_revoke", args=[contact.pk]))

    assert client.get(page).status_code == 404
    assert PortalLink.objects.get().revoked_by == collector


def test_the_buttons_show_only_to_those_who_may_change_the_customer(client, collector):
    contact = ContactFactory()  # another collector's or nobody's customer
    client.force_login(collector)

    html = client.get(reverse("customer_detail", args=[contact.customer_id])).text

    assert "Customer page link" not in html
