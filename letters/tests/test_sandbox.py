"""Templates are written by users: they see plain values and nothing else."""

import pytest

from letters.exceptions import TemplateProblem
from letters.render import Parts, message_render, sample_context
from letters.sandbox import HTML, TEXT, render

pytestmark = pytest.mark.django_db


def _text(source: str) -> str:
    return render(source, sample_context(), engine=TEXT, field="Plain text")


@pytest.mark.parametrize(
    "source, says",
    [
        ("{{ settings.SECRET_KEY }}", "uses settings.SECRET_KEY"),
        ("{{ customer.objects.all }}", "uses customer.objects.all"),
        ("{{ customer.name.__class__ }}", "may not begin with underscores"),
        ("{% debug %}", "unknown tag 'debug'"),
        ("{% load static %}", "unknown tag 'load'"),
        ("{% url 'dashboard' %}", "unknown tag 'url'"),
        ("{% extends 'base.html' %}", "unknown tag 'extends'"),
    ],
)
def test_a_template_reaching_beyond_its_context_is_refused_with_a_clear_message(source, says):
    with pytest.raises(TemplateProblem) as refused:
        _text(source if "extends" in source else "Dear customer,\n" + source)

    assert says in str(refused.value)
    assert refused.value.line == (1 if "extends" in source else 2)
    assert "SECRET" not in str(refused.value).replace("settings.SECRET_KEY", "")


@pytest.mark.parametrize("name", ["/etc/passwd", "../../collections_app/settings.py", "base.html"])
def test_include_reaches_only_the_built_in_partials(name):
    with pytest.raises(TemplateProblem) as refused:
        _text(f'{{% include "{name}" %}}')

    assert "cannot be" in str(refused.value)


def test_a_syntax_error_names_its_field_and_line():
    with pytest.raises(TemplateProblem) as refused:
        _text("Line one\nLine two\n{% if total %}never closed\n")

    assert refused.value.field == "Plain text"
    assert "Unclosed tag on line 3" in refused.value.problem


def test_a_misspelt_field_is_reported_with_its_line_not_printed_as_nothing():
    with pytest.raises(TemplateProblem) as refused:
        _text("Dear {{ contact.name }},\nYou owe {{ totl }}.")

    assert refused.value.line == 2
    assert "uses totl" in str(refused.value)


def test_records_cannot_be_changed_from_a_template():
    context = sample_context()

    render("{% with c=customer %}{{ c.name }}{% endwith %}", context, engine=TEXT, field="x")

    with pytest.raises(AttributeError):
        context["customer"].name = "changed"
    assert context["customer"]["name"] == "Example Trading Ltd"


def test_html_templates_escape_what_customers_typed():
    context = sample_context()
    context["customer"] = type(context["customer"])(name="<script>x</script>", account="C-1")

    html = render("<p>{{ customer.name }}</p>", context, engine=HTML, field="HTML email")

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_money_filter_formats_amounts_in_their_currency():
    parts = Parts(subject="Owed: {{ total|money:currency }}", body_text="x", body_html="x")

    assert message_render(parts, sample_context()).subject == "Owed: £1,730.50"
