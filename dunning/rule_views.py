"""Admins' screens for which policy chases whom: the default-policy rules (dunning.rules)
and a policy's repeating last reminder. Views bind a form, call one service, redirect."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import ADMIN, role_required

from .exceptions import DunningError
from .forms import PolicyRepeatForm, PolicyRuleForm
from .models import Policy, PolicyRule
from .rules import Rule, policy_rule_delete, policy_rule_save, policy_set_repeat


def _posted(request):
    return request.POST if request.method == "POST" else None


def _rules_page(request, form: PolicyRuleForm, editing: PolicyRule | None):
    rules = list(PolicyRule.objects.select_related("policy").order_by("position", "id"))
    for rule in rules:
        rule.words = Rule(
            rule.position, rule.debtor_type, rule.country, rule.min_balance, rule.policy_id, ""
        ).describe()
    default = Policy.objects.filter(is_default=True).first()
    return render(
        request,
        "dunning/policy_rules.html",
        {"rules": rules, "form": form, "editing": editing, "default": default},
    )


def _save(request, form: PolicyRuleForm, rule: PolicyRule | None):
    try:
        saved = policy_rule_save(actor=request.user, rule=rule, **form.cleaned_data)
    except DunningError as error:
        form.add_error(None, str(error))
        return None
    messages.success(request, f"Rule {saved.position} saved.")
    return redirect("dunning:policy_rules")


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def policy_rules(request):
    """The rules in the order they are tried, and a form to add one."""
    following = PolicyRule.objects.order_by("-position").values_list("position", flat=True)[:1]
    form = PolicyRuleForm(_posted(request), initial={"position": (following.first() or 0) + 1})
    if form.is_valid() and (done := _save(request, form, None)):
        return done
    return _rules_page(request, form, None)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def policy_rule_edit(request, pk: int):
    rule = get_object_or_404(PolicyRule, pk=pk)
    initial = {
        "position": rule.position,
        "debtor_type": rule.debtor_type,
        "country": rule.country,
        "min_balance": rule.min_balance,
        "policy": rule.policy_id,
    }
    form = PolicyRuleForm(_posted(request), initial=initial)
    if form.is_valid() and (done := _save(request, form, rule)):
        return done
    return _rules_page(request, form, rule)


@role_required(ADMIN)
@require_POST
def policy_rule_remove(request, pk: int):
    rule = get_object_or_404(PolicyRule, pk=pk)
    policy_rule_delete(actor=request.user, rule=rule)
    messages.success(request, f"Rule {rule.position} deleted.")
    return redirect("dunning:policy_rules")


@role_required(ADMIN)
@require_POST
def policy_repeat(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    form = PolicyRepeatForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Repeat every 1 to 365 days, or leave it blank to send once.")
    elif policy_set_repeat(
        actor=request.user, policy=policy, every_days=form.cleaned_data["repeat_every_days"]
    ):
        messages.success(request, f"The repeat of {policy.name}'s last reminder saved.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect("dunning:policy_detail", policy.pk)
