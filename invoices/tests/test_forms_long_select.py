"""LongSelect writes the same select as Django's, without a template per option."""

import re

from django import forms

from invoices.forms import LongSelect

CHOICES = [("", "Pick one"), ("Europe/London", "Europe/London"), ("A&B", "<A & B>")]


class Both(forms.Form):
    fast = forms.ChoiceField(choices=CHOICES, widget=LongSelect, disabled=True)
    slow = forms.ChoiceField(choices=CHOICES, disabled=True)


def _options(html: str) -> list[tuple[str, bool, str]]:
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html
        )
    ]


def test_it_writes_the_options_escaping_and_selection_as_a_plain_select_does():
    form = Both(initial={"fast": "A&B", "slow": "A&B"})
    fast, slow = str(form["fast"]), str(form["slow"])

    assert _options(fast) == _options(slow)
    assert ("A&amp;B", True, "&lt;A &amp; B&gt;") in _options(fast)
    assert 'name="fast"' in fast and 'id="id_fast"' in fast and " disabled" in fast
