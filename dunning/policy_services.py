"""Writes for policies and the organisation's dunning settings.

A policy's steps are never edited in place: saving creates the next immutable version, and
a chase keeps the version it started on until an admin moves it (with a preview of what
changes for it).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Subquery

from audit.services import Event, audit_record, audit_record_many
from invoices.models import Customer
from letters.defaults import SHIPPED
from letters.interest import audience
from letters.models import InterestRegime, Template, TemplateVersion

from .models import (
    BarredDebts,
    Channel,
    Chase,
    ChaseStatus,
    CustomerPolicy,
    DunningSettings,
    Policy,
    PolicyStep,
    PolicyVersion,
    StepKind,
    Touch,
)

STEP_FIELDS = (
    "position",
    "name",
    "offset_days",
    "channel",
    "template",
    "min_balance",
    "business_days_only",
    "use_escalation_contact",
    "response_deadline_days",
    "attach_statement",
    "attach_copies",
    "pre_action_template",
    "pre_action_days",
    "kind",
)
SETTINGS_FIELDS = (
    "window_start",
    "window_end",
    "phone_start",
    "phone_end",
    "business_days",
    "holiday_country",
    "holiday_subdivision",
    "min_interval_days",
    "promise_grace_days",
    "promise_max_days",
    "plan_grace_days",
    "schedule_minutes",
    "creditor_role",
    "credit_hold_overdue_days",
    "credit_hold_over_limit",
)


class PolicyError(Exception):
    """A policy change the rules refuse; the message is fit to show to the user."""


# --- steps as plain dicts -----------------------------------------------------------------


def _plain(value):
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, dt.time | dt.date):
        return value.isoformat()
    return value


def step_dict(step: PolicyStep) -> dict:
    return {name: _plain(getattr(step, name)) for name in STEP_FIELDS}


def version_steps(version: PolicyVersion | None) -> list[dict]:
    if version is None:
        return []
    return [step_dict(step) for step in version.steps.order_by("position")]


def steps_problems(steps: list[dict]) -> list[str]:
    """Why a ladder is not acceptable, in words; empty when it is.

    A step may lack fields (the editor passes the fields of a row that were valid even when
    others were not): a missing field is not judged, so each problem is reported once, by
    whichever check owns it."""
    if not steps:
        return ["A policy needs at least one step."]
    problems = []
    positions = sorted(step["position"] for step in steps if step.get("position") is not None)
    repeated = sorted({p for p in positions if positions.count(p) > 1})
    if repeated:
        listed = ", ".join(str(p) for p in repeated)
        problems.append(f"Each step needs its own position: {listed} is used more than once.")
    elif len(positions) == len(steps) and positions != list(range(1, len(positions) + 1)):
        problems.append(f"Positions must run 1, 2, 3 … without gaps (got {positions}).")
    names: dict[str, list] = {}
    for step in steps:
        if step.get("name"):
            names.setdefault(step["name"].strip().casefold(), []).append(step)
    for same in names.values():
        if len(same) > 1:
            problems.append(
                f"{len(same)} steps are called {same[0]['name']}: give each step its own name, "
                "so the timeline tells them apart."
            )
    # A satisfaction check counts from the issue date, not the due date: outside the order.
    placed = [
        s
        for s in steps
        if s.get("position") is not None
        and s.get("offset_days") is not None
        and s.get("kind") != StepKind.CHECK
    ]
    if sum(1 for s in steps if s.get("kind") == StepKind.CHECK) > 1:
        problems.append("A policy has at most one satisfaction check: remove the others.")
    ordered = sorted(placed, key=lambda step: step["position"])
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after["offset_days"] < before["offset_days"]:
            problems.append(
                f"Step {after['position']} ({after.get('name', '')}) comes {after['offset_days']} "
                f"days from due, before step {before['position']} ({before.get('name', '')}) at "
                f"{before['offset_days']}: offsets may not go down along the ladder."
            )
    for step in steps:
        # Absent (not None) means the row's deadline was itself wrong and already reported.
        if (
            step.get("channel") == Channel.LETTER
            and "response_deadline_days" in step
            and not step["response_deadline_days"]
        ):
            problems.append(
                f"Step {step.get('position', '?')} ({step.get('name', '')}) is a letter: give it "
                "a response deadline in days."
            )
    return problems


# --- the templates a step can use ------------------------------------------------------------

# The channels that cannot go out without a template. A phone step without one gets the
# built-in call script; a legal referral and an internal task send nothing.
NEEDS_TEMPLATE = (Channel.EMAIL, Channel.LETTER)


@dataclass(frozen=True)
class TemplateOption:
    """A template a step can name: its English version is what every language falls back to."""

    key: str
    name: str
    text: bool  # its latest version has an email text (also the call script)
    letter: bool  # its latest version has a letter to print and attach as a PDF

    @property
    def label(self) -> str:
        if self.letter:
            return f"{self.name} (email and letter)"
        return f"{self.name} (email)" if self.text else f"{self.name} (no text yet)"


@dataclass(frozen=True)
class TemplateCatalogue:
    options: tuple[TemplateOption, ...]  # in ladder order
    # Keys the policy names that have no template: a phone step's hook for a call script
    # not written yet (it uses the built-in one meanwhile). Kept, so an unrelated edit does
    # not change them; an email or letter step may not name one.
    kept: frozenset[str] = frozenset()

    def get(self, key: str) -> TemplateOption | None:
        return next((option for option in self.options if option.key == key), None)

    def choices(self) -> list[tuple[str, str]]:
        return [
            ("", "None"),
            *((option.key, option.label) for option in self.options),
            *((key, f"{key} (not written yet)") for key in sorted(self.kept)),
        ]

    def problem(self, channel: str, key: str) -> str | None:
        """Why a step on this channel cannot use this template; None when it can."""
        needed = channel in NEEDS_TEMPLATE
        if not key:
            return (
                f"{Channel(channel).label} steps need a template: choose one." if needed else None
            )
        option = self.get(key)
        if option is None and key in self.kept:
            if not needed:
                return None
            return (
                f"{key} is not written yet: {Channel(channel).label.lower()} steps need a "
                f"template that exists. Choose another, or create {key} under Templates first."
            )
        if option is None:
            return (
                f"There is no template {key}: choose one from the list, or create it under "
                "Templates first."
            )
        if channel == Channel.LETTER and not option.letter:
            return (
                f"{option.name} has no letter: a letter step needs a template with a letter "
                "(PDF) in it. Choose another, or add a letter to it under Templates."
            )
        if channel in (Channel.EMAIL, Channel.PHONE) and not option.text:
            return f"{option.name} has no text yet: write it under Templates first."
        return None


def template_catalogue(named: Iterable[str] = ()) -> TemplateCatalogue:
    """The templates steps can use, in ladder order: the ones `named` (a policy's steps, in
    order) first, then the shipped ladder's, then the rest by name. One query."""
    latest = TemplateVersion.objects.filter(template=OuterRef("pk")).order_by("-number")
    filled = TemplateVersion.objects.filter(pk=OuterRef("latest"))
    rows = (
        Template.objects.filter(language="en")
        .annotate(latest=Subquery(latest.values("pk")[:1]))
        .annotate(
            text=Exists(filled.filter(body_text__regex=r"\S")),
            letter=Exists(filled.filter(letter_html__regex=r"\S")),
        )
        .values_list("key", "name", "text", "letter")
    )
    named = [key for key in named if key]
    rank: dict[str, int] = {}
    for key in [*named, *SHIPPED]:
        rank.setdefault(key, len(rank))
    options = sorted(
        (TemplateOption(key=k, name=n, text=t, letter=lt) for k, n, t, lt in rows),
        key=lambda o: (rank.get(o.key, len(rank)), o.name.casefold(), o.key),
    )
    known = {option.key for option in options}
    return TemplateCatalogue(options=tuple(options), kept=frozenset(set(named) - known))


def templates_problems(steps: list[dict], catalogue: TemplateCatalogue) -> list[str]:
    """The steps whose channel cannot use their template, in words."""
    problems = []
    for step in sorted(steps, key=lambda s: s["position"]):
        problem = catalogue.problem(step["channel"], step.get("template") or "")
        if problem:
            problems.append(f"Step {step['position']} ({step['name']}): {problem}")
    return problems


def _normalised(steps: list[dict]) -> list[dict]:
    rows = []
    for step in sorted(steps, key=lambda s: s["position"]):
        row = {name: step.get(name) for name in STEP_FIELDS}
        row["template"] = row["template"] or ""
        row["min_balance"] = Decimal(str(row["min_balance"] or 0))
        row["business_days_only"] = bool(row["business_days_only"])
        row["use_escalation_contact"] = bool(row["use_escalation_contact"])
        row["attach_statement"] = bool(row["attach_statement"])
        row["attach_copies"] = bool(row["attach_copies"])
        row["response_deadline_days"] = row["response_deadline_days"] or None
        row["pre_action_template"] = row["pre_action_template"] or ""
        row["pre_action_days"] = row["pre_action_days"] or None
        row["kind"] = row["kind"] or StepKind.CHASE
        rows.append(row)
    return rows


def _create_version(*, policy: Policy, number: int, steps: list[dict], actor, note: str):
    version = PolicyVersion.objects.create(
        policy=policy, number=number, note=note[:200], created_by=actor
    )
    PolicyStep.objects.bulk_create(PolicyStep(version=version, **step) for step in steps)
    return version


# --- policies ------------------------------------------------------------------------------


@transaction.atomic
def policy_save_version(
    *, actor, policy: Policy, steps: list[dict], note: str = ""
) -> PolicyVersion | None:
    """Save the submitted steps as the policy's next version (n + 1).

    Returns None when the steps equal the current version's: nothing to version. Active
    chases stay on the version they started on (see chases_move_to_version). Raises
    PolicyError, with every problem found, for a ladder steps_problems refuses or a step whose
    channel cannot use its template (TemplateCatalogue.problem)."""
    # Serialise concurrent saves of one policy so version numbers never collide.
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    current = policy.current_version
    before = version_steps(current)
    catalogue = template_catalogue(step["template"] for step in before)
    problems = steps_problems(steps) + templates_problems(steps, catalogue)
    if problems:
        raise PolicyError(" ".join(problems))
    rows = _normalised(steps)
    after = [{name: _plain(value) for name, value in row.items()} for row in rows]
    if before == after:
        return None
    number = (current.number if current else 0) + 1
    version = _create_version(policy=policy, number=number, steps=rows, actor=actor, note=note)
    audit_record(
        action="dunning.policy.versioned",
        actor=actor,
        summary=f"Policy {policy.name}: version {number} saved",
        data={"policy": policy.pk, "version": number, "before": before, "after": after},
    )
    return version


@transaction.atomic
def policy_copy(*, actor, source: Policy, name: str) -> Policy:
    """A new policy whose version 1 has the source's current steps."""
    name = name.strip()
    if not name:
        raise PolicyError("Give the new policy a name.")
    if Policy.objects.filter(name__iexact=name).exists():
        raise PolicyError(f"A policy called {name} already exists.")
    steps = _normalised(version_steps(source.current_version))
    policy = Policy.objects.create(name=name)
    _create_version(
        policy=policy, number=1, steps=steps, actor=actor, note=f"Copied from {source.name}"
    )
    audit_record(
        action="dunning.policy.created",
        actor=actor,
        summary=f"Policy {name} created as a copy of {source.name}",
        data={
            "policy": policy.pk,
            "copied_from": source.pk,
            "steps": version_steps(policy.current_version),
        },
    )
    return policy


@transaction.atomic
def policy_set_default(*, actor, policy: Policy) -> bool:
    """Make this the policy for every customer without one of their own."""
    previous = Policy.objects.select_for_update().filter(is_default=True).first()
    if previous and previous.pk == policy.pk:
        return False
    # The partial unique index allows one default: clear the old one first.
    Policy.objects.filter(is_default=True).update(is_default=False)
    Policy.objects.filter(pk=policy.pk).update(is_default=True)
    audit_record(
        action="dunning.policy.default_set",
        actor=actor,
        summary=f"Default policy is now {policy.name}",
        data={"before": previous.pk if previous else None, "after": policy.pk},
    )
    return True


@transaction.atomic
def policy_set_interest(*, actor, policy: Policy, regime: str) -> bool:
    """Claim statutory interest and compensation in this policy's letters under a law
    (InterestRegime), or not at all (blank). The law is claimed only from the customers it
    covers (letters.interest.regime_applies: businesses billed in its currency); the audit
    event records whom."""
    if regime and regime not in InterestRegime.values:
        raise PolicyError(f"There is no statutory interest regime {regime!r}; choose a listed law.")
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.interest_regime == regime:
        return False
    before = policy.interest_regime
    Policy.objects.filter(pk=policy.pk).update(interest_regime=regime)
    audit_record(
        action="dunning.policy.interest_set",
        actor=actor,
        summary=f"Policy {policy.name}: statutory interest "
        + (f"claimed under {InterestRegime(regime).label}" if regime else "not claimed"),
        data={
            "policy": policy.pk,
            "before": before,
            "after": regime,
            "applies_to": audience(regime) if regime else "",
        },
    )
    return True


@transaction.atomic
def policy_set_barred_debts(*, actor, policy: Policy, rule: str) -> bool:
    """What this policy does with a debt past its limitation date (BarredDebts): soft
    reminders only, or stop. Either way no message threatens court over it."""
    if rule not in BarredDebts.values:
        raise PolicyError(f"There is no rule {rule!r} for barred debts; choose a listed one.")
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.barred_debts == rule:
        return False
    before = policy.barred_debts
    Policy.objects.filter(pk=policy.pk).update(barred_debts=rule)
    audit_record(
        action="dunning.policy.barred_debts_set",
        actor=actor,
        summary=f"Policy {policy.name}, debts past their limitation date: "
        f"{BarredDebts(rule).label}",
        data={"policy": policy.pk, "before": before, "after": rule},
    )
    return True


@transaction.atomic
def customer_policy_set(*, actor, customer: Customer, policy: Policy | None) -> bool:
    """Chase this customer with a policy of its own, or (None) with the one the policy rules
    give them, else the default."""
    row = CustomerPolicy.objects.select_for_update().filter(customer=customer).first()
    before = row.policy_id if row else None
    after = policy.pk if policy else None
    if before == after:
        return False
    if policy is None:
        row.delete()
    elif row:
        row.policy = policy
        row.save(update_fields=["policy"])
    else:
        CustomerPolicy.objects.create(customer=customer, policy=policy)
    audit_record(
        action="dunning.policy.assigned",
        actor=actor,
        customer_id=customer.pk,
        summary=f"{customer.name} now follows "
        + (f"policy {policy.name}" if policy else "the policy rules (else the default)"),
        data={"before": before, "after": after},
    )
    return True


# --- moving chases to a new version -------------------------------------------------------


@dataclass
class StepChange:
    position: int
    kind: str  # added | removed | changed
    before: dict | None
    after: dict | None
    fields: list[str] = field(default_factory=list)


@dataclass
class ChaseMove:
    chase: Chase
    from_number: int
    done: list[int]
    next_before: dict | None
    next_after: dict | None

    @property
    def changes(self) -> bool:
        return self.next_before != self.next_after


@dataclass
class VersionDiff:
    policy: Policy
    target: PolicyVersion | None
    base: PolicyVersion | None  # the version the step changes are measured from
    steps: list[StepChange]
    chases: list[ChaseMove]
    chase_count: int  # every chase that would move; `chases` may show only the first ones


def _steps_diff(before: list[dict], after: list[dict]) -> list[StepChange]:
    old = {step["position"]: step for step in before}
    new = {step["position"]: step for step in after}
    changes = []
    for position in sorted(old.keys() | new.keys()):
        a, b = old.get(position), new.get(position)
        if a is None:
            changes.append(StepChange(position, "added", None, b))
        elif b is None:
            changes.append(StepChange(position, "removed", a, None))
        elif a != b:
            fields = [name for name in STEP_FIELDS if a[name] != b[name]]
            changes.append(StepChange(position, "changed", a, b, fields))
    return changes


def _next_step(steps: list[dict], done: list[int]) -> dict | None:
    # The engine's rule: the next step is the first position after the highest one done.
    last = max(done, default=0)
    return next(
        (s for s in steps if s["position"] > last and s.get("kind") != StepKind.CHECK), None
    )


def chases_to_move(policy: Policy):
    """Active chases of this policy that are on an older version than its current one."""
    current = policy.current_version
    chases = Chase.objects.filter(status=ChaseStatus.ACTIVE, policy_version__policy=policy)
    if current is not None:
        chases = chases.exclude(policy_version=current)
    return chases


def policy_version_diff(*, policy: Policy, limit: int = 100) -> VersionDiff:
    """What moving the policy's active chases to its current version changes: the steps
    added, removed or changed against each older version in use, and for each chase (up to
    `limit`) its next step before and after the move."""
    target = policy.current_version
    after = version_steps(target)
    chases_qs = chases_to_move(policy)
    chase_count = chases_qs.count()
    chases = list(
        chases_qs.select_related("customer", "policy_version").order_by("customer__name")[:limit]
    )
    done_by_chase: dict[int, list[int]] = {}
    for chase_id, position in Touch.objects.filter(
        chase__in=[c.pk for c in chases], step__isnull=False
    ).values_list("chase_id", "step__position"):
        done_by_chase.setdefault(chase_id, []).append(position)

    steps_by_version: dict[int, list[dict]] = {}
    version_ids = {c.policy_version_id for c in chases}
    for step in PolicyStep.objects.filter(version_id__in=version_ids).order_by("position"):
        steps_by_version.setdefault(step.version_id, []).append(step_dict(step))

    moves = []
    for chase in chases:
        done = sorted(set(done_by_chase.get(chase.pk, [])))
        before = steps_by_version.get(chase.policy_version_id, [])
        moves.append(
            ChaseMove(
                chase=chase,
                from_number=chase.policy_version.number,
                done=done,
                next_before=_next_step(before, done),
                next_after=_next_step(after, done),
            )
        )
    # Compare against the oldest version in use (it shows every change a chase may see), or,
    # with no chase to move, against the version before the current one.
    base = (
        PolicyVersion.objects.filter(pk__in=chases_qs.values("policy_version"))
        .order_by("number")
        .first()
    )
    if base is None and target is not None:
        base = policy.versions.filter(number__lt=target.number).order_by("-number").first()
    return VersionDiff(
        policy=policy,
        target=target,
        base=base,
        steps=_steps_diff(version_steps(base), after) if base else [],
        chases=moves,
        chase_count=chase_count,
    )


@transaction.atomic
def chases_move_to_version(*, actor, policy: Policy) -> int:
    """Move every active chase of the policy to its current version; returns how many moved.
    Steps already done keep counting by position: the chase resumes after the highest one."""
    target = policy.current_version
    if target is None:
        raise PolicyError(f"Policy {policy.name} has no version to move to.")
    chases = list(
        chases_to_move(policy)
        .select_for_update()
        .select_related("customer", "policy_version")
        .order_by("pk")
    )
    if not chases:
        return 0
    Chase.objects.filter(pk__in=[c.pk for c in chases]).update(policy_version=target)
    audit_record_many(
        actor=actor,
        events=[
            Event(
                action="dunning.chase.moved",
                customer_id=chase.customer_id,
                summary=f"Chase {chase.cycle} moved from {policy.name} "
                f"v{chase.policy_version.number} to v{target.number}",
                data={
                    "chase": chase.pk,
                    "policy": policy.pk,
                    "before": chase.policy_version.number,
                    "after": target.number,
                },
            )
            for chase in chases
        ],
    )
    return len(chases)


def latest_version_number(policy: Policy) -> int:
    return policy.versions.aggregate(n=Max("number"))["n"] or 0


# --- organisation settings ----------------------------------------------------------------


@transaction.atomic
def dunning_settings_update(*, actor, **values) -> dict:
    """Change the organisation's contact rules; returns {field: [before, after]}."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Unknown dunning settings: {sorted(unknown)}")
    DunningSettings.current()
    row = DunningSettings.objects.select_for_update().get(pk=1)
    changes = {}
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
            setattr(row, name, new)
    if not changes:
        return {}
    row.full_clean()
    row.save()
    audit_record(
        action="dunning.settings.updated",
        actor=actor,
        summary=f"Dunning settings changed: {', '.join(changes)}",
        data={"changes": changes},
    )
    return changes
