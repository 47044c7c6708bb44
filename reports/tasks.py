"""The worker's refresh of what the default dashboard keeps (reports.summary, reports.cache),
scheduled every REFRESH_MINUTES so the page is read from kept figures."""

import datetime as dt

from django.utils import timezone
from django_q.models import Schedule

from dunning.schedule import every
from invoices.models import Customer

from . import history, rollup, summary
from .cache import cached_many, forget_expired
from .forms import ReportFilterForm
from .metrics import currencies_in_use
from .selectors import kept_parts

NAME = "reports refresh"
FUNC = "reports.tasks.refresh_dashboard"
REFRESH_MINUTES = 5


def refresh_dashboard() -> int:
    """Store the closed months of every currency, whole and per collector (folding today's
    aging first), recompute today's slow parts and drop expired ones. Returns the number of
    currencies refreshed."""
    today = timezone.localdate()
    currencies = refill_months()
    defaults = ReportFilterForm.defaults(today)
    start = today - dt.timedelta(days=defaults["period"] - 1)
    cached_many(kept_parts(start, today), fresh=True)
    forget_expired()
    return len(currencies)


def refill_months() -> list[str]:
    """Fold the aging changes written so far into the kept rows (reports.rollup and
    reports.history) and store whatever closed months are missing, for every currency whole
    and per collector (queued after ledger writes, so a big import is folded soon after it
    commits); returns the currencies."""
    if rollup.available():
        rollup.fold()
        history.fold()
    today = timezone.localdate()
    currencies = currencies_in_use()
    for scope in _scopes(currencies):
        summary.closed_months(scope, today)
    return currencies


def _scopes(currencies: list[str]) -> list[summary.Scope]:
    """Every currency whole, then for each collector with customers and for the customers
    without one: the choices of the dashboard's collector filter."""
    collectors = set(Customer.objects.order_by().values_list("collector_id", flat=True).distinct())
    scopes = [summary.Scope(currency) for currency in currencies]
    for collector_id in sorted(collectors, key=lambda pk: (pk is None, pk)):
        scopes += [
            summary.Scope(currency, **summary.customers_of(collector_id)) for currency in currencies
        ]
    return scopes


def schedule_ensure() -> Schedule:
    return every(REFRESH_MINUTES, name=NAME, func=FUNC)


def on_post_migrate(sender, **kwargs) -> None:
    schedule_ensure()
