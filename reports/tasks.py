"""The worker's refresh of what the default dashboard keeps (reports.summary, reports.cache),
scheduled every REFRESH_MINUTES so the page is read from kept figures."""

import datetime as dt

from django.utils import timezone
from django_q.models import Schedule

from dunning.schedule import every

from . import summary
from .forms import ReportFilterForm
from .metrics import currencies_in_use
from .selectors import activity_kept, limitation_kept, systemic_kept

NAME = "reports refresh"
FUNC = "reports.tasks.refresh_dashboard"
REFRESH_MINUTES = 5


def refresh_dashboard() -> int:
    """Store every currency's closed months and recompute today's slow parts. Returns the
    number of currencies refreshed."""
    today = timezone.localdate()
    currencies = currencies_in_use()
    for currency in currencies:
        summary.closed_months(currency, today)
    defaults = ReportFilterForm.defaults(today)
    start = today - dt.timedelta(days=defaults["period"] - 1)
    activity_kept(start, today, None, fresh=True)
    systemic_kept(today, fresh=True)
    limitation_kept(today, fresh=True)
    return len(currencies)


def schedule_ensure() -> Schedule:
    return every(REFRESH_MINUTES, name=NAME, func=FUNC)


def on_post_migrate(sender, **kwargs) -> None:
    schedule_ensure()
