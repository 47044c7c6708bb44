"""The pure planning core of the dunning engine: facts in, a plan out. No ORM, no I/O.

Rules (PRODUCT.md "Rules the engine always keeps", LEGAL.md):
- Whole-account pauses: do-not-contact, insolvent, a manual hold (until hold_until, or
  open-ended), an active payment plan being met, an open whole-account promise (until its
  date + grace). Each pause names itself in paused_by and in the explanation.
- Per-invoice pauses: an open dispute, an open promise naming the invoice (until date +
  grace). Other invoices of the same customer are still chased.
- Eligible invoices = open, not paused. The step is driven by the OLDEST eligible invoice:
  days = customer-local date(as_of) - its due date.
- Steps advance one at a time in ladder order: the next step is the first position after
  the highest one done in this chase (no step is ever skipped because a partial payment
  moved the oldest date). Exception: steps with a negative offset (before due) are passed
  over once the driving invoice is already due. The next step is due once days >=
  its offset_days.
- One message per customer per step: it covers every eligible invoice with
  days_overdue >= min(offset, 1) (for a pre-due step: those coming due within |offset| days
  too), oldest first, and their total.
- Below the step's min_balance: the action is planned with skip=True (recorded and passed).
- Timing (in the customer's time zone, returned in UTC): business_days_only -> a business
  day (weekday in business_weekdays, not a holiday); email/letter -> inside the sending
  window; phone -> inside phone_start..phone_end; consumers -> every channel inside
  phone_start..phone_end as well; never sooner than last_automated_at + min_interval for
  automated messages (email, letter); consumers' calls: at most 7 in any 7 days and none
  within 7 days after last_conversation_at. DST gaps and folds are handled (an instant
  that does not exist moves to the next valid one).
- close_chase when the customer has no open invoice at all.
- explanation: for a customer with nothing due, when the next step will be and why not
  sooner (e.g. "Second reminder on 12 Mar 09:00 Europe/London: the oldest invoice
  INV-1 is 5 days overdue and this step waits until 7; the last message went out on ...").
"""

import datetime as dt

from .facts import Calendar, CustomerFacts, CustomerPlan, StepFact


def plan_customer(
    facts: CustomerFacts, steps: tuple[StepFact, ...], calendar: Calendar, as_of: dt.datetime
) -> CustomerPlan:
    """Plan the next action for one customer as of an aware UTC moment."""
    raise NotImplementedError
