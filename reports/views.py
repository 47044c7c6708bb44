from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import MANAGER, role_required

from .charts import bar_chart
from .selectors import BUCKETS, aging_by_currency

BUCKET_CLASSES = ("bar-current", "bar-1", "bar-2", "bar-3", "bar-4")


@role_required(MANAGER)
@require_GET
def dashboard(request):
    as_of = timezone.localdate()
    labels = [label for _key, label, _days in BUCKETS]
    rows = aging_by_currency(as_of=as_of)
    charts = []
    for row in rows:
        chart = bar_chart(labels, row.amounts, css_classes=BUCKET_CLASSES)
        charts.append({"row": row, "geometry": chart, "bars": chart.bars})
    return render(
        request,
        "reports/dashboard.html",
        {"as_of": as_of, "labels": labels, "charts": charts},
    )
