"""A cost cap on rendering the templates admins write: a time and a size budget per part.

Checked as the render goes, so a runaway template is stopped, not measured once it is done:
every tag, variable and text of the template checks the clock and counts what it wrote,
every turn of a {% for %} checks the clock, and every filter checks it too, refusing before
it starts one that would build too much text (a huge width or separator) and after it ends
one that built too much. Django renders in plain Python in the calling thread, so a
cooperative check is the one that works: signals cannot reach worker threads, and a process
per render would slow every send. What one step can cost past the deadline is one filter
on at most the size budget of text."""

import functools
import time
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from django.conf import settings
from django.template.base import Node
from django.template.defaulttags import ForNode, RegroupNode

from .exceptions import TemplateTooCostly

# Filters whose argument is the length of what they build: a width, or decimal places.
_WIDTH_FILTERS = {"center", "ljust", "rjust", "floatformat"}
# How each part is named in a message, after "its".
_PARTS = {"Subject": "subject", "Plain text": "plain-text email", "Letter": "letter"}


class OverBudget(Exception):
    """Stops a render from inside; sandbox.render turns it into TemplateTooCostly."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind  # "time" or "size"


class Budget:
    """The time and output one render may use, from TEMPLATE_RENDER_SECONDS and
    TEMPLATE_RENDER_MAX_BYTES (counted in characters of text)."""

    __slots__ = ("deadline", "max_bytes", "written", "over")

    def __init__(self, *, seconds: float, max_bytes: int):
        self.deadline = time.monotonic() + seconds
        self.max_bytes = max_bytes
        self.written = 0
        self.over = ""

    @classmethod
    def from_settings(cls) -> "Budget":
        return cls(
            seconds=settings.TEMPLATE_RENDER_SECONDS, max_bytes=settings.TEMPLATE_RENDER_MAX_BYTES
        )

    def check_time(self) -> None:
        if self.over or time.monotonic() > self.deadline:
            self.stop("time")

    def check_size(self, size) -> None:
        if size > self.max_bytes:
            self.stop("size")

    def stop(self, kind: str):
        # Sticky: {% if %} swallows any error raised while it tests its condition, so the
        # next check, or the end of the render, raises it again.
        self.over = self.over or kind
        raise OverBudget(self.over)

    def finish(self, output: str) -> None:
        if self.over:
            self.stop(self.over)
        self.check_size(len(output))


_active: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def spending(budget: Budget):
    """Make this budget the one the template's checks charge, for this thread only."""
    token = _active.set(budget)
    try:
        yield budget
    finally:
        _active.reset(token)


def meter(nodelist) -> None:
    """Make a compiled template check the active budget as it renders."""
    for node in nodelist.get_nodes_by_type(Node):
        node.render_annotated = _checked_render(node.render_annotated)
        if isinstance(node, ForNode):
            node.sequence = _Turns(node.sequence)
        elif isinstance(node, RegroupNode):
            node.target = _Turns(node.target)


def _checked_render(render_annotated):
    def render(context):
        budget = _active.get()
        if budget is None:
            return render_annotated(context)
        budget.check_time()
        start = budget.written
        output = render_annotated(context)
        # What a node returns replaces what its children counted: text written inside
        # nested loops and blocks is counted once, as it ends up.
        budget.written = start + len(output)
        budget.check_size(budget.written)
        return output

    return render


class _Turns:
    """What a {% for %} or {% regroup %} goes through, checking the clock at every item (a
    loop with an empty body renders no node that would)."""

    def __init__(self, expression):
        self.expression = expression

    def resolve(self, context, ignore_failures=False):
        values = self.expression.resolve(context, ignore_failures=ignore_failures)
        budget = _active.get()
        if values is None or budget is None:
            return values
        return _Checked(values, budget)

    def __str__(self):
        return str(self.expression)


class _Checked:
    __slots__ = ("values", "budget")

    def __init__(self, values, budget: Budget):
        self.values = values if hasattr(values, "__len__") else list(values)
        self.budget = budget

    def __len__(self):
        return len(self.values)

    def __iter__(self):
        return self._turns(self.values)

    def __reversed__(self):
        return self._turns(reversed(self.values))

    def _turns(self, items):
        check = self.budget.check_time
        for item in items:
            check()
            yield item


def checked_filter(name: str, func):
    """The filter, charging the active budget (the same filter when no render is under way)."""

    @functools.wraps(func)
    def checked(value, *args, **kwargs):
        budget = _active.get()
        if budget is None:
            return func(value, *args, **kwargs)
        budget.check_time()
        if args and name in _WIDTH_FILTERS:
            budget.check_size(_width(args[0]))
        elif args and name == "join":
            budget.check_size(_separators(value, args[0]))
        result = func(value, *args, **kwargs)
        if isinstance(result, str | list | tuple):
            budget.check_size(len(result))
        return result

    return checked


def _width(arg) -> Decimal:
    """The width or places an argument asks for, read as a number without building it."""
    try:
        width = abs(Decimal(str(arg).strip().rstrip("gu")))
    except ArithmeticError:
        return Decimal(0)
    return width if width.is_finite() else Decimal(0)


def _separators(value, separator) -> int:
    try:
        return max(len(value) - 1, 0) * len(str(separator))
    except TypeError:
        return 0


def too_costly(kind: str, *, name: str, field: str, line: int | None = None) -> TemplateTooCostly:
    """The error for a part that went over budget, naming the template and the part."""
    who = f'The template "{name}"' if name else "The template"
    part = _PARTS.get(field, field)
    if kind == "time":
        seconds = f"{settings.TEMPLATE_RENDER_SECONDS:g} s"
        problem = (
            f"{who} took longer than {seconds} to render its {part} "
            "(it may loop too much): simplify it."
        )
    else:
        problem = (
            f"{who} produced more than {_size(settings.TEMPLATE_RENDER_MAX_BYTES)} of text "
            f"in its {part} (it may loop or pad too much): simplify it."
        )
    return TemplateTooCostly(field, line, problem)


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g} MB"
    if count >= 1000:
        return f"{count / 1000:g} kB"
    return f"{count} characters"
