"""bench letters: 200 final demand letters through Dunmore's whole path (context, fenced
template, letter frame, PDF with the safe fetcher) beside a bare WeasyPrint render of the
very same HTML, alternating letter by letter so both see the same machine."""

import datetime as dt
import time
from decimal import Decimal

from weasyprint import HTML

from invoices.bench import _cpus, _peak_mb
from invoices.models import Contact, Customer

from .models import Template
from .render import Parts, context_build, letter_page, letter_pdf

LETTERS = 200


def _letter_inputs(n: int, today: dt.date):
    customer = Customer(
        name=f"Customer {n:04d} Trading Ltd", external_id=f"C-{n:05d}", currency="GBP"
    )
    contact = Contact(name=f"Payables {n}", address=f"{n} Harbour Road\nBristol\nBS1 {n % 9}AA")
    invoices = [
        {
            "number": f"INV-{n:05d}-{i}",
            "due_date": today - dt.timedelta(days=45 + 7 * i),
            "balance": Decimal(250 + 37 * i + n % 100).quantize(Decimal("0.01")),
        }
        for i in range(1 + n % 8)
    ]
    return customer, contact, invoices


def bench_letters(*, rows: int | None = None, say=print) -> dict:
    count = rows or LETTERS
    version = Template.objects.get(key="final_demand", language="en").versions.first()
    parts = Parts.of(version)
    today = dt.date.today()
    ours = bare = 0.0
    for n in range(count):
        customer, contact, invoices = _letter_inputs(n, today)
        started = time.perf_counter()
        context = context_build(
            customer=customer,
            contact=contact,
            invoices=invoices,
            today=today,
            step="Final demand",
            deadline=today + dt.timedelta(days=20),
            deadline_days=14,
            interest_regime="uk",
        )
        letter_pdf(parts, context)
        ours += time.perf_counter() - started
        page = letter_page(parts, context)
        started = time.perf_counter()
        HTML(string=page).write_pdf()
        bare += time.perf_counter() - started
    say(f"{count} final demand letters: ours {ours:.1f} s, bare WeasyPrint {bare:.1f} s")
    return {
        "letters": count,
        "ours_s": round(ours, 2),
        "bare_s": round(bare, 2),
        "letters_per_s": round(count / ours, 1),
        "bare_letters_per_s": round(count / bare, 1),
        "ratio": round(ours / bare, 3),
        "overhead_pct": round((ours / bare - 1) * 100, 1),
        "peak_mb": _peak_mb(),
        "cpus": _cpus(),
    }
