"""The pure planning core of the dunning engine: facts in, a plan out. No ORM, no I/O.

Rules (PRODUCT.md "Rules the engine always keeps", LEGAL.md):
- Whole-account pauses: do-not-contact, insolvent, an approved legal referral, a message
  a person must settle first (its outcome unknown, or it could not be sent), a manual
  hold (until hold_until, or open-ended), an active payment plan being met, an open
  whole-account promise (until its date + grace). Each pause names itself in paused_by
  and in the explanation.
- Per-invoice pauses: an open dispute, an open promise naming the invoice (until date +
  grace). Other invoices of the same customer are still chased (the reason names what is
  left out); paused_by lists these only when every open invoice is paused.
- Eligible invoices = open, not paused. The step is driven by the OLDEST eligible invoice:
  days = customer-local date(as_of) - its due date.
- Steps advance one at a time in ladder order: the next step is the first position after
  the highest one done in this chase (no step is ever skipped because a partial payment
  moved the oldest date). Exception: steps with a negative offset (before due) are passed
  over once the driving invoice is overdue (days >= 1). The next step is due once days >=
  its offset_days.
- A person may move a chase to a step (dunning.moves): the chase starts there (steps before
  start_position count as done) and its first step is due at once, not at its offset -
  the person decided - but still inside every other rule (pauses, windows, business days,
  min interval, consumer rules, barred debts, the Pre-Action Protocol, the referral's
  wait for the demand's deadline). Its reason and the explanation say who moved it, when
  and why. Moving to step 1 restarts the chase.
- Repeats: once every step is done, a policy with repeat_every_days sends the ladder's last
  email or letter step (repeat_step; a call, a referral or an internal task is a person's
  work, not a reminder) again every that many days after it last went in this chase,
  until paid. Each repeat is numbered (PlannedAction.repeat) for its own touch key.
- One message per customer per step: it covers every eligible invoice with
  days_overdue >= min(offset, 1) (for a pre-due step: those coming due within |offset| days
  too), oldest first, and their total.
- Below the step's min_balance: the action is planned with skip=True (recorded and passed).
  So is a phone step when every phone number on file asked not to be called (no_calls).
- Barred invoices (past their limitation date, barred_on) are never threatened. Under the
  policy's "stop" rule they are left out of chasing like a disputed invoice (the reason
  says so); under "soft" only email steps cover them: a letter (the final demand), a
  phone task or a legal step leaves them out, and is skipped when they are all it would
  cover.
- A legal referral also waits until the day after the final demand's deadline
  (demand_deadline), whatever its offset says.
- The UK Pre-Action Protocol for Debt Claims: an individual or sole trader in England and
  Wales (pre_action) gets a letter step's Letter of Claim in its place (the step's
  pre_action_days set), and the referral waits until its reply period is over: those days
  from the letter, and as many again from a reply asking for documents (reply_deadline).
- Timing (in the customer's time zone, returned in UTC): business_days_only -> a business
  day (weekday in business_weekdays, not a holiday); email/letter -> inside the sending
  window; phone -> inside phone_start..phone_end; consumers -> every channel inside
  phone_start..phone_end as well; never sooner than last_automated_at + min_interval for
  automated messages (email, letter); consumers' calls: at most 7 in any 7 days and none
  within 7 days after last_conversation_at. DST gaps and folds are handled (an instant
  that does not exist moves to the next valid one). Windows are half-open: [start, end).
- close_chase when the customer has no open invoice at all, or when nothing is overdue any
  more after the chase went past the due date (the next overdue invoice starts a new chase,
  from the top of the ladder).
- explanation: for a customer with nothing due, when the next step will be and why not
  sooner (e.g. "Next: Second reminder by email on 12 Mar 2026, 09:00 (Europe/London). Not
  sooner because: the oldest invoice INV-1 is 5 days overdue and this step waits until it
  is 7 days overdue; ...").
- The satisfaction check (a step of kind "check", plan_check): planned beside the chase in
  plan.check, never part of the ladder; see plan_check for its rules and its pacing.
- Wording: dates and amounts through the shared formatters (invoices.dates, invoices.money),
  the same ones every page uses; a step's channel is named only when its name does not
  already say it ("Legal referral", not "Legal referral as a legal referral"). The general
  rule that steps go one at a time is the pages' help text (LADDER_RULE), not repeated in
  every reason: a reason says why its own step was chosen only when the debt's age alone
  would point at a later one.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from invoices.dates import format_day, format_moment
from invoices.money import display_locale, format_money

from .calendar import MIDNIGHT, local_to_utc, next_allowed, zone
from .facts import Calendar, CustomerFacts, CustomerPlan, InvoiceFact, PlannedAction, StepFact

CONSUMER = "consumer"
AUTOMATED = frozenset({"email", "letter"})  # messages that count against min_interval
CONTACT = frozenset({"email", "letter", "phone"})  # channels that reach the debtor
CONSUMER_CALL_CAP = 7  # Regulation F 1006.14: more than 7 calls in 7 days is presumed harassment
CONSUMER_CALL_PERIOD = dt.timedelta(days=7)
CONSUMER_QUIET_AFTER_CONVERSATION = dt.timedelta(days=7)
LISTED_INVOICES = 5  # invoice numbers named in a reason before "and N more"
# The channels that may cover a barred debt under the "soft" rule: an email's wording is
# checked before it goes, while a letter demands, a call cannot be checked and a legal step
# is the threat itself.
BARRED_SOFT_CHANNELS = frozenset({"email"})
STOP = "stop"  # dunning.models.BarredDebts.STOP
CHECK = "check"  # dunning.models.StepKind.CHECK: the satisfaction check, not a ladder step
# The Pre-Action Protocol for Debt Claims binds a business claiming from an individual or
# sole trader in England and Wales. A blank or unrecognised region in GB counts as England
# and Wales: 30 days given where the Protocol does not bind harms nobody, too few where it
# does would.
PRE_ACTION_DEBTORS = frozenset({"sole_trader", "consumer"})
OTHER_UK_LAW = frozenset(
    {"scotland", "sct", "gb-sct", "northern ireland", "nir", "gb-nir", "ni", "n. ireland"}
)
LETTER_OF_CLAIM = "Letter of claim"
PRE_ACTION_DAYS = 30  # the Protocol's least reply period, for a step that names none
SOFT_ONLY = "this policy chases barred debts by email reminders only"
NO_CALLS = "Skipped: every phone number on file has asked not to be called."

CHANNEL_PHRASE = {
    "email": "by email",
    "letter": "by letter",
    "phone": "as a phone task",
    "legal": "as a legal referral for approval",
    "task": "as an internal task",
}
# Words that, in a step's name, already say its channel.
CHANNEL_WORDS = {
    "email": ("email", "e-mail"),
    "letter": ("letter",),
    "phone": ("phone", "call"),
    "legal": ("legal", "referral"),
    "task": ("task",),
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Said once, where the next step is shown, rather than in every reason.
LADDER_RULE = (
    "Steps go one at a time, in ladder order: each waits until the one before it is done and "
    "its own day has come, so a later step never goes first, however old the debt. A new "
    "chase starts at the top of the ladder (steps due before the due date are passed over "
    "once an invoice is overdue)."
)
# What a collector can do once the ladder has nothing left (PRODUCT.md, the legal step).
AFTER_LADDER = "consider a legal referral, a collection agency or a write-off"
AFTER_REFERRAL = (
    "if the legal referral is not going ahead, consider a collection agency, a write-off or "
    "selling the debt"
)


@lru_cache(maxsize=256)
def step_heading(name: str, channel: str) -> str:
    """A step as a reader sees it: its name, and its channel unless the name says it."""
    words = name.lower()
    if any(word in words for word in CHANNEL_WORDS.get(channel, (channel,))):
        return name
    return f"{name} {CHANNEL_PHRASE.get(channel, 'by ' + channel)}"


def pre_action_applies(debtor_type: str, country: str, region: str) -> bool:
    """Whether the Pre-Action Protocol for Debt Claims applies to this debtor: an individual
    or sole trader in England and Wales."""
    if debtor_type not in PRE_ACTION_DEBTORS or country.upper() != "GB":
        return False
    return " ".join(region.split()).casefold() not in OTHER_UK_LAW


def reply_deadline(
    sent_on: dt.date, days: int, documents_requested: Iterable[dt.date] = ()
) -> dt.date:
    """The last day to reply to a Letter of Claim sent on a day: `days` after it, or as
    many after their latest reply asking for documents, whichever is later. A request
    dated before the letter is not a reply to it."""
    last = sent_on + dt.timedelta(days=days)
    replies = [day for day in documents_requested if day >= sent_on]
    if replies:
        last = max(last, max(replies) + dt.timedelta(days=days))
    return last


def repeat_step(ladder: Iterable[StepFact]) -> StepFact | None:
    """The step a repeating policy sends again once its ladder is done: the last email or
    letter step (never the satisfaction check)."""
    messages = [s for s in ladder if s.channel in AUTOMATED and s.kind != CHECK]
    return max(messages, key=_position) if messages else None


class _Override(NamedTuple):
    """A step's day set by a move or a repeat, in place of its offset's."""

    day: dt.date
    why: str  # why not sooner, when the day is still to come
    note: str  # who moved it and why: said in the reason and the explanation
    repeat: int = 0  # the nth repeat of the last message step
    every: int = 0  # days between repeats


def plan_customer(
    facts: CustomerFacts, steps: tuple[StepFact, ...], calendar: Calendar, as_of: dt.datetime
) -> CustomerPlan:
    """Plan the next action for one customer as of an aware moment (returned times are UTC).

    The plan always carries an explanation a collector can read; when an action is planned
    but not yet due, the explanation says when it will be and why not sooner. A policy
    with a satisfaction check step also gets plan.check (plan_check): the ladder never
    sees that step.
    """
    if not any(s.kind == CHECK for s in steps):
        return _plan_chase(facts, steps, calendar, as_of)
    ladder = tuple(s for s in steps if s.kind != CHECK)
    plan = _plan_chase(facts, ladder, calendar, as_of)
    step = min((s for s in steps if s.kind == CHECK), key=_position)
    check = plan_check(facts, step, calendar, as_of, chase=plan.action)
    return plan._replace(check=check) if check is not None else plan


def plan_check(
    facts: CustomerFacts,
    step: StepFact,
    calendar: Calendar,
    as_of: dt.datetime,
    chase: PlannedAction | None = None,
) -> PlannedAction | None:
    """The satisfaction check due for a customer's newly issued invoices, or None.

    One email covers every open invoice whose check day (issue date + the step's offset)
    has come, asked once per invoice, only while it is not yet due, not disputed, not
    promised and not answered. It keeps the chase's pauses (do not contact, holds,
    insolvency...) and its contact rules (window, business days, consumers' hours).

    Pacing (PRODUCT.md rule 4: at most one automated message per customer within the
    interval): a check is an automated message, so it waits for the interval after the
    last one, and for the interval after a chase message due first (chasing overdue
    money comes first: `chase`, the chase's next action). Once planned, it counts for the
    chase's interval like any message, so a reminder may wait up to that interval for it;
    it never moves the ladder on or holds it (its touch belongs to no chase).
    """
    tz = zone(facts.timezone)
    today = as_of.astimezone(tz).date()
    offset = dt.timedelta(days=step.offset_days)
    asked = [
        inv
        for inv in facts.invoices
        if inv.issue_date is not None
        and not inv.check_done
        and not inv.disputed
        and inv.promised_until is None
        and today < inv.due_date
        and inv.issue_date + offset < inv.due_date
    ]
    if not asked or _account_pauses(facts, today)[0]:
        return None
    first = min(inv.issue_date for inv in asked) + offset
    earliest = as_of if first <= today else max(as_of, local_to_utc(first, MIDNIGHT, tz))
    consumer = facts.debtor_type == CONSUMER
    for not_before, _text in _contact_limits(facts, "email", calendar, consumer):
        earliest = max(earliest, not_before)
    chasing = chase is not None and not chase.skip and chase.step.channel in AUTOMATED
    if chasing and chase.due_at <= earliest:
        earliest = max(earliest, chase.due_at + calendar.min_interval)
    window, _text = _window("email", calendar, consumer)
    slot = next_allowed(
        earliest, tz, calendar, window=window, business_days_only=step.business_days_only
    )
    if slot.at is None:
        return None
    day = slot.at.astimezone(tz).date()
    covered = [inv for inv in asked if inv.issue_date + offset <= day < inv.due_date]
    total = sum((inv.balance for inv in covered), Decimal("0"))
    if not covered or total < step.min_balance:
        return None
    numbers = [inv.number for inv in covered[:LISTED_INVOICES]]
    if len(covered) > LISTED_INVOICES:
        numbers.append(f"and {len(covered) - LISTED_INVOICES} more")
    soonest = min(inv.due_date for inv in covered)
    reason = (
        f"Satisfaction check ({_plural(step.offset_days, 'day')} after issue): asks whether "
        f"{_plural(len(covered), 'invoice')} ({', '.join(numbers)}; total "
        f"{_money(total, facts.currency)}) arrived and {'is' if len(covered) == 1 else 'are'} "
        f"in order, before the first falls due on {_date(soonest)}."
    )
    return PlannedAction(step, _ids(covered), total, slot.at, reason)


def _plan_chase(
    facts: CustomerFacts, steps: tuple[StepFact, ...], calendar: Calendar, as_of: dt.datetime
) -> CustomerPlan:
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    tz = zone(facts.timezone)
    today = as_of.astimezone(tz).date()
    cid = facts.customer_id

    if not facts.invoices:
        return CustomerPlan(cid, None, "Nothing to chase: no open invoices.", close_chase=True)

    ladder = sorted(steps, key=_position)
    done = max(facts.steps_done, default=0)
    if _chase_is_over(facts, ladder, done, today):
        return CustomerPlan(
            cid,
            None,
            "Chase closed: nothing is overdue any more; "
            "the next overdue invoice starts a new chase from the first step.",
            close_chase=True,
        )

    account_pauses, resumes_on = _account_pauses(facts, today)
    eligible: list[InvoiceFact] = []
    invoice_pauses: list[str] = []
    stopped: list[str] = []
    for inv in sorted(facts.invoices, key=_age):
        if inv.disputed:
            invoice_pauses.append(f"open dispute on {inv.number}")
        elif inv.promised_until is not None and inv.promised_until >= today:
            invoice_pauses.append(
                f"promise to pay on {inv.number} until {_date(inv.promised_until)}"
            )
        elif inv.barred_on is not None and facts.barred_debts == STOP:
            stopped.append(_barred(inv))
        else:
            eligible.append(inv)
    if stopped:
        invoice_pauses.append(f"{'; '.join(stopped)}: this policy stops chasing barred debts")
    eligible_ids = tuple(inv.id for inv in eligible)

    if account_pauses:
        text = f"Paused: {'; '.join(account_pauses)}."
        if resumes_on is not None:
            text += f" Chasing resumes on {_date(resumes_on)}."
        paused_by = tuple(account_pauses + invoice_pauses)
        return CustomerPlan(cid, None, text, paused_by, eligible_invoice_ids=eligible_ids)
    if not eligible:
        if stopped and len(invoice_pauses) == 1:
            text = f"Not chased: {invoice_pauses[0]}."
        else:
            text = f"Paused: every open invoice is on hold ({'; '.join(invoice_pauses)})."
        return CustomerPlan(cid, None, text, tuple(invoice_pauses))

    driver = eligible[0]
    days = (today - driver.due_date).days
    step = _next_step(ladder, max(done, facts.start_position - 1), overdue=days >= 1)
    override = None
    if step is None:
        step, override = _repeat(facts, ladder, tz)
    elif facts.move_reason and not facts.steps_done:
        override = _Override(today, "", _moved(facts, ladder))
    if step is not None:
        return _plan_step(
            facts, step, ladder, calendar, as_of, tz, today, eligible, invoice_pauses, override
        )
    referred = any(s.channel == "legal" for s in ladder)
    text = (
        f"Ladder complete: every step has been taken in this chase and the oldest invoice "
        f"{driver.number} is {_days_overdue(days)}. A collector decides what happens "
        f"next: {AFTER_REFERRAL if referred else AFTER_LADDER}."
    )
    return CustomerPlan(cid, None, text, eligible_invoice_ids=eligible_ids)


def _moved(facts: CustomerFacts, ladder: list[StepFact]) -> str:
    start = next((s for s in ladder if s.position == facts.start_position), None)
    name = f" ({start.name})" if start else ""
    who = f" by {facts.moved_by}" if facts.moved_by else ""
    on = f" on {_date(facts.moved_on)}" if facts.moved_on else ""
    return f"Moved to step {facts.start_position}{name}{who}{on}: {facts.move_reason}."


def _repeat(
    facts: CustomerFacts, ladder: list[StepFact], tz: ZoneInfo
) -> tuple[StepFact | None, _Override | None]:
    """The ladder's last message step again, if the policy repeats it and it went in this
    chase; its day is the policy's days after it last went."""
    every = facts.repeat_every_days
    step = repeat_step(ladder)
    if not every or step is None or facts.repeat_last_at is None:
        return None, None
    last = facts.repeat_last_at.astimezone(tz).date()
    day = last + dt.timedelta(days=every)
    why = f"{step.name} repeats every {_plural(every, 'day')} and last went on {_date(last)}"
    return step, _Override(day, why, "", repeat=facts.repeats_done + 1, every=every)


def _plan_step(
    facts: CustomerFacts,
    step: StepFact,
    ladder: list[StepFact],
    calendar: Calendar,
    as_of: dt.datetime,
    tz: ZoneInfo,
    today: dt.date,
    eligible: list[InvoiceFact],
    invoice_pauses: list[str],
    override: _Override | None = None,
) -> CustomerPlan:
    cid = facts.customer_id
    driver = eligible[0]
    days = (today - driver.due_date).days
    in_place_of = ""
    if facts.pre_action and step.pre_action_days is not None:
        in_place_of = step.name
        step = replace(step, name=LETTER_OF_CLAIM)
    offset_day = driver.due_date + dt.timedelta(days=step.offset_days)
    step_day = offset_day
    why: list[str] = []
    if override is not None:
        step_day = override.day
        if step_day > today:
            why.append(override.why)
    elif offset_day > today:
        why.append(_waiting_for_offset(driver, days, step.offset_days))
    deadline = facts.demand_deadline
    if step.channel == "legal" and deadline is not None and deadline >= max(today, step_day):
        # Rule 6: a referral only once the final demand's deadline has passed, even when
        # the ladder ran late and the offset alone would allow it sooner.
        step_day = deadline + dt.timedelta(days=1)
        why.append(_demand_words(facts, deadline))
    day_start = local_to_utc(step_day, MIDNIGHT, tz) if step_day > today else as_of
    earliest = max(as_of, day_start)

    covered, barred = _threat_free(
        step, _covered(eligible, max(today, step_day), step.offset_days, override)
    )

    # A skipped step contacts nobody: no window or interval applies, only its day.
    def skipped(invoices: list[InvoiceFact], reason: str) -> CustomerPlan:
        action = PlannedAction(
            step,
            tuple(inv.id for inv in invoices),
            sum((inv.balance for inv in invoices), Decimal("0")),
            earliest.astimezone(dt.UTC),
            _noted(override, reason),
            skip=True,
            repeat=override.repeat if override else 0,
        )
        when = "now" if earliest <= as_of else f"on {_date(step_day)}"
        text = f"{step.name} will be skipped {when}. {action.reason}"
        return CustomerPlan(cid, action, text, eligible_invoice_ids=_ids(eligible))

    if barred and not covered:
        # Soft rule: every invoice this step would cover is barred, and it may not say so.
        return skipped(barred, _barred_skip_reason(barred))
    if barred:
        invoice_pauses = [*invoice_pauses, f"{_barred_names(barred)}: {SOFT_ONLY}"]
    total = sum((inv.balance for inv in covered), Decimal("0"))
    if total < step.min_balance:
        return skipped(covered, _skip_reason(step, facts, total, driver))
    if step.channel == "phone" and facts.no_calls:
        return skipped(covered, NO_CALLS)

    consumer = facts.debtor_type == CONSUMER
    for not_before, text in _contact_limits(facts, step.channel, calendar, consumer):
        if not_before > as_of:
            earliest = max(earliest, not_before)
            why.append(text)

    window, window_text = _window(step.channel, calendar, consumer)
    slot = next_allowed(
        earliest, tz, calendar, window=window, business_days_only=step.business_days_only
    )
    if slot.at is None:
        text = (
            f"{step.name} cannot be scheduled: no business day inside the contact hours "
            "within a year. Check the business calendar."
        )
        return CustomerPlan(cid, None, text, eligible_invoice_ids=_ids(eligible))
    if slot.outside_window:
        why.append(window_text)
    if slot.closed_day is not None:
        why.append(_closed(slot.closed_day, calendar))

    action_day = slot.at.astimezone(tz).date()
    if action_day != max(today, step_day):
        covered, _barred_too = _threat_free(
            step, _covered(eligible, action_day, step.offset_days, override)
        )
        total = sum((inv.balance for inv in covered), Decimal("0"))
    reason = _action_reason(
        step, ladder, facts, driver, covered, total, action_day, invoice_pauses, override
    )
    if in_place_of:
        reason += (
            f" {LETTER_OF_CLAIM} in place of {in_place_of}: the Pre-Action Protocol for Debt "
            f"Claims gives an individual or sole trader in England and Wales "
            f"{_plural(step.pre_action_days, 'day')} to reply, with a reply form and a "
            "financial statement."
        )
    repeat = override.repeat if override else 0
    action = PlannedAction(
        step, tuple(inv.id for inv in covered), total, slot.at, reason, repeat=repeat
    )

    heading = step_heading(step.name, step.channel)
    if slot.at <= as_of:
        text = f"Due now: {heading}. {reason}"
    else:
        moment = _moment(slot.at, tz.key)
        because = "; ".join(why) if why else "this is the earliest moment the rules allow"
        text = f"Next: {heading} on {moment} ({tz.key}). Not sooner because: {because}."
        if facts.broken_promise:
            text += " A promise to pay was broken, so escalation continues."
        if override is not None and not repeat:
            text += f" {override.note}"
    if repeat:
        text += f" Repeats every {_plural(override.every, 'day')} until paid: " + (
            f"this one now, the next on {_date(action_day + dt.timedelta(days=override.every))}."
            if slot.at <= as_of
            else f"next on {_date(action_day)}."
        )
    return CustomerPlan(cid, action, text, eligible_invoice_ids=_ids(eligible))


def _position(step: StepFact) -> int:
    return step.position


def _age(inv: InvoiceFact) -> tuple:
    return (inv.due_date, inv.number, inv.id)


def _ids(invoices: list[InvoiceFact]) -> tuple[int, ...]:
    return tuple(inv.id for inv in invoices)


def _chase_is_over(facts: CustomerFacts, ladder: list[StepFact], done: int, today: dt.date) -> bool:
    """The chase went past the due date and nothing (disputed or not) is overdue any more."""
    if not done or any(inv.due_date < today for inv in facts.invoices):
        return False
    return any(s.position <= done and s.offset_days >= 1 for s in ladder)


def _account_pauses(facts: CustomerFacts, today: dt.date) -> tuple[list[str], dt.date | None]:
    """Whole-account pauses in force, in words, and the day chasing resumes (None when any
    of them is open-ended)."""
    pauses: list[str] = []
    last_day: dt.date | None = None
    open_ended = False
    if facts.do_not_contact:
        pauses.append("do not contact")
        open_ended = True
    if facts.insolvent:
        pauses.append("insolvent")
        open_ended = True
    if facts.in_legal_since is not None:
        pauses.append(f"referred to legal on {_date(facts.in_legal_since)}")
        open_ended = True
    if facts.unsettled:
        pauses.append(facts.unsettled)
        open_ended = True
    if facts.on_hold and (facts.hold_until is None or facts.hold_until >= today):
        reason = f": {facts.hold_reason}" if facts.hold_reason else ""
        if facts.hold_until is None:
            pauses.append(f"manual hold, open-ended{reason}")
            open_ended = True
        else:
            pauses.append(f"manual hold until {_date(facts.hold_until)}{reason}")
            last_day = max(last_day or facts.hold_until, facts.hold_until)
    if facts.plan_active:
        pauses.append("active payment plan, instalments met")
        open_ended = True
    if facts.account_promise_until is not None and facts.account_promise_until >= today:
        until = facts.account_promise_until
        pauses.append(f"open promise to pay on the whole account until {_date(until)}")
        last_day = max(last_day or until, until)
    if open_ended or last_day is None:
        return pauses, None
    return pauses, last_day + dt.timedelta(days=1)


def _next_step(ladder: list[StepFact], done: int, *, overdue: bool) -> StepFact | None:
    for step in ladder:
        if step.position <= done or (overdue and step.offset_days < 0):
            continue
        return step
    return None


def _covered(
    eligible: list[InvoiceFact], day: dt.date, offset: int, override: _Override | None = None
) -> list[InvoiceFact]:
    """The invoices one message for this step covers on `day`, oldest first. A step moved
    to, or repeated, covers the driving invoice at least, however young."""
    threshold = min(offset, 1)
    covered = [inv for inv in eligible if (day - inv.due_date).days >= threshold]
    if override is not None and not covered:
        return eligible[:1]
    return covered


def _noted(override: _Override | None, reason: str) -> str:
    if override is None:
        return reason
    if override.repeat:
        return (
            f"Repeat {override.repeat}: the ladder is done and this policy sends its last "
            f"reminder again every {_plural(override.every, 'day')} until paid. {reason}"
        )
    return f"{override.note} {reason}"


def _threat_free(
    step: StepFact, covered: list[InvoiceFact]
) -> tuple[list[InvoiceFact], list[InvoiceFact]]:
    """(the invoices this step may cover, the barred ones it must leave out). Only reached
    under the soft rule: the stop rule took barred invoices out of eligible already."""
    if step.channel in BARRED_SOFT_CHANNELS:
        return covered, []
    kept = [inv for inv in covered if inv.barred_on is None]
    if len(kept) == len(covered):
        return covered, []
    return kept, [inv for inv in covered if inv.barred_on is not None]


def _demand_words(facts: CustomerFacts, deadline: dt.date) -> str:
    """Why a referral waits for the demand's deadline, in words."""
    if not facts.demand_is_claim:
        return f"the final demand gives them until {_date(deadline)}"
    asked = facts.documents_requested_on
    if asked is not None:
        return (
            f"they replied asking for documents on {_date(asked)}, so the Pre-Action Protocol "
            f"gives them until {_date(deadline)}"
        )
    return (
        f"the letter of claim gives them until {_date(deadline)} to reply "
        "(Pre-Action Protocol for Debt Claims)"
    )


def _barred(inv: InvoiceFact) -> str:
    return f"{inv.number} passed its limitation date on {_date(inv.barred_on)}"


def _barred_names(barred: list[InvoiceFact]) -> str:
    names = "; ".join(_barred(inv) for inv in barred[:LISTED_INVOICES])
    if len(barred) > LISTED_INVOICES:
        names += f"; and {len(barred) - LISTED_INVOICES} more barred"
    return names


def _barred_skip_reason(barred: list[InvoiceFact]) -> str:
    return (
        f"Skipped: {_barred_names(barred)}, and {SOFT_ONLY} (no letter, phone call or legal step)."
    )


def _contact_limits(
    facts: CustomerFacts, channel: str, calendar: Calendar, consumer: bool
) -> list[tuple[dt.datetime, str]]:
    """Moments before which this channel may not contact the customer, with why."""
    limits: list[tuple[dt.datetime, str]] = []
    if channel in AUTOMATED and facts.last_automated_at is not None and calendar.min_interval:
        last = facts.last_automated_at
        limits.append(
            (
                last + calendar.min_interval,
                f"the last automated message went out on {_moment(last, facts.timezone)} and "
                f"messages are at least {_interval(calendar.min_interval)} apart",
            )
        )
    if channel == "phone" and consumer:
        if len(facts.calls) >= CONSUMER_CALL_CAP:
            # The call that would be the 8th within 7 days waits until the oldest of the
            # last seven falls out of the period.
            seventh = sorted(facts.calls)[-CONSUMER_CALL_CAP]
            limits.append(
                (
                    seventh + CONSUMER_CALL_PERIOD,
                    f"{len(facts.calls)} calls were made in the last 7 days and a consumer "
                    f"gets at most {CONSUMER_CALL_CAP} in 7 days",
                )
            )
        if facts.last_conversation_at is not None:
            spoke = _moment(facts.last_conversation_at, facts.timezone)
            limits.append(
                (
                    facts.last_conversation_at + CONSUMER_QUIET_AFTER_CONVERSATION,
                    f"we spoke with them on {spoke} "
                    "and a consumer gets no calls for 7 days after a conversation",
                )
            )
    return limits


@lru_cache(maxsize=256)  # asked once per customer; a run has a few channels and one calendar
def _window(
    channel: str, calendar: Calendar, consumer: bool
) -> tuple[tuple[dt.time, dt.time] | None, str]:
    if channel == "phone":
        start, end = calendar.phone_start, calendar.phone_end
        return (start, end), f"phone tasks are due only {_hhmm(start)}–{_hhmm(end)} local time"
    if channel not in CONTACT:
        return None, ""
    start, end = calendar.window_start, calendar.window_end
    if consumer:
        start, end = max(start, calendar.phone_start), min(end, calendar.phone_end)
    return (start, end), f"messages go out only {_hhmm(start)}–{_hhmm(end)} local time"


def _closed(day: dt.date, calendar: Calendar) -> str:
    if day in calendar.holidays:
        return f"{_date(day)} is a public holiday"
    return f"{_date(day)} is a {WEEKDAYS[day.weekday()]}, not a business day"


def _waiting_for_offset(driver: InvoiceFact, days: int, offset: int) -> str:
    if days >= 1:
        return (
            f"the oldest invoice {driver.number} is {_days_overdue(days)} and this step "
            f"waits until it is {_days_overdue(offset)}"
        )
    status = "due today" if days == 0 else f"due in {_plural(-days, 'day')}"
    return (
        f"the oldest invoice {driver.number} is {status} and this step is {_offset_words(offset)}"
    )


def _action_reason(
    step: StepFact,
    ladder: list[StepFact],
    facts: CustomerFacts,
    driver: InvoiceFact,
    covered: list[InvoiceFact],
    total: Decimal,
    day: dt.date,
    invoice_pauses: list[str],
    override: _Override | None = None,
) -> str:
    days = (day - driver.due_date).days
    if days >= 1:
        state = f"{_days_overdue(days)}"
    elif days == 0:
        state = "due that day"
    else:
        state = f"due in {_plural(-days, 'day')}"
    parts = [
        f"Step {step.position} ({_offset_words(step.offset_days)}): the oldest open invoice "
        f"{driver.number} is {state}."
    ]
    later = [s for s in ladder if s.position > step.position and 0 <= s.offset_days <= days]
    if later and override is None:
        # The debt's age alone would point further down the ladder: say why this step.
        parts.append(_why_this_step(step, ladder, facts, later[-1]))
    numbers = [inv.number for inv in covered[:LISTED_INVOICES]]
    if len(covered) > LISTED_INVOICES:
        numbers.append(f"and {len(covered) - LISTED_INVOICES} more")
    parts.append(
        f"Covers {_plural(len(covered), 'invoice')}, oldest first: {', '.join(numbers)}; "
        f"total {_money(total, facts.currency)}."
    )
    if invoice_pauses:
        parts.append(f"Left out: {'; '.join(invoice_pauses)}.")
    if facts.broken_promise:
        parts.append("A promise to pay was broken, so escalation continues.")
    return _noted(override, " ".join(parts))


def _why_this_step(
    step: StepFact, ladder: list[StepFact], facts: CustomerFacts, aged: StepFact
) -> str:
    done = max(facts.steps_done, default=0)
    last = next((s for s in reversed(ladder) if s.position <= done), None)
    if last is None:
        return (
            f"{step.name} comes first because a new chase starts at the top of the ladder, "
            f"however old the debt (by age alone it would be {aged.name})."
        )
    return (
        f"{step.name} is next because {last.name} was the last step taken in this chase "
        f"(by age alone it would be {aged.name})."
    )


def _skip_reason(step: StepFact, facts: CustomerFacts, total: Decimal, driver: InvoiceFact) -> str:
    text = (
        f"Skipped: the balance it would cover, {_money(total, facts.currency)}, is below the "
        f"step's minimum of {_money(step.min_balance, facts.currency)} "
        f"(oldest invoice {driver.number})."
    )
    if step.channel == "legal":
        text += " Consider an agency, a write-off or selling the debt instead."
    return text


def _offset_words(offset: int) -> str:
    if offset > 0:
        return f"{_plural(offset, 'day')} after the due date"
    if offset < 0:
        return f"{_plural(-offset, 'day')} before the due date"
    return "on the due date"


def _days_overdue(days: int) -> str:
    return f"{_plural(days, 'day')} overdue"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _interval(delta: dt.timedelta) -> str:
    if delta.seconds == 0 and delta.microseconds == 0:
        return _plural(delta.days, "day")
    return _plural(round(delta.total_seconds() / 3600), "hour")


def _money(amount: Decimal, currency: str) -> str:
    """An amount as the shared formatter writes it (quick for plain amounts: money.py)."""
    return format_money(amount, currency, display_locale())


def _hhmm(at: dt.time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def _date(day: dt.date) -> str:
    return format_day(day)


def _moment(at: dt.datetime, tz: str) -> str:
    """A moment in the customer's time zone, as the pages write one."""
    return _moment_in(at, tz, display_locale())


# A run writes the same few slots (09:00 on the coming business days) for most customers.
@lru_cache(maxsize=4096)
def _moment_in(at: dt.datetime, tz: str, locale: str) -> str:
    return format_moment(at, locale, tz=zone(tz))
