import pytest
from django.urls import reverse

from letters.models import ReferenceRate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rate", ["4E0", "4_25", "NaN", "4,25"])
def test_a_reference_rate_outside_the_number_format_is_refused(admin_client_, rate):
    response = admin_client_.post(
        reverse("letters:reference_rates"),
        {"regime": "uk", "valid_from": "2027-01-01", "rate": rate},
    )

    assert response.context["form"].errors["rate"] == [
        f"'{rate}' is not a rate: use digits with a dot for decimals, e.g. 4.25."
    ]
    assert not ReferenceRate.objects.filter(valid_from="2027-01-01").exists()


def test_a_negative_reference_rate_with_three_decimals_is_still_taken(admin_client_):
    admin_client_.post(
        reverse("letters:reference_rates"),
        {"regime": "uk", "valid_from": "2027-01-01", "rate": "-0.125"},
    )

    assert str(ReferenceRate.objects.get(valid_from="2027-01-01").rate) == "-0.125"
