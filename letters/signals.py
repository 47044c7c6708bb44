"""What letters asks of the apps above it. Policies live in dunning, which imports letters,
so letters never reads them itself: it sends a signal and the policy app answers."""

from dataclasses import dataclass

from django.dispatch import Signal


@dataclass(frozen=True)
class StepUse:
    """A step of a policy's current version that names a template."""

    template: str  # the template key
    policy: str
    default_policy: bool
    position: int
    step: str
    offset_days: int
    # An email or letter step cannot go out without its template; a phone step falls back
    # to a built-in call script, and a referral or an internal task uses none.
    sends_message: bool = True
    # A satisfaction check: its offset counts days after the invoice's issue date.
    after_issue: bool = False

    @property
    def when(self) -> str:
        days = abs(self.offset_days)
        if self.after_issue:
            return f"{days} day{'' if days == 1 else 's'} after the issue date"
        if not days:
            return "on the due date"
        unit = "day" if days == 1 else "days"
        return f"{days} {unit} {'before' if self.offset_days < 0 else 'after'} the due date"


# Sent by the template screens (sender=StepUse, no arguments). A receiver returns an iterable
# of StepUse: every step of each policy's current version.
template_uses = Signal()


def steps_naming_templates() -> list[StepUse] | None:
    """Every policy step that names a template: the default policy first, each in ladder order.
    None when no installed app answers: the uses are then unknown, which is not "none"."""
    if not template_uses.has_listeners(StepUse):
        return None
    uses = [use for _receiver, answer in template_uses.send(sender=StepUse) for use in answer]
    return sorted(uses, key=lambda use: (not use.default_policy, use.policy, use.position))
