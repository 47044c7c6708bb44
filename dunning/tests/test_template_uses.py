"""The template screens name the policy steps that use each template (dunning answers
letters' template_uses signal)."""

import pytest
from django.urls import reverse

from .factories import ladder  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def test_the_template_list_names_the_default_ladders_steps(admin_client_):
    text = admin_client_.get(reverse("letters:template_list")).text

    assert "step 6: Final demand" in text
