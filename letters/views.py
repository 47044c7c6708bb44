"""Admins edit templates with a live preview and the letter settings; managers post the
day's letters; anyone with a role downloads a stored document or a customer's statement
(reading a colleague's customer is allowed: these views write nothing)."""

import datetime as dt
import io
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST
from pypdf import PdfWriter

from accounts.roles import ADMIN, COLLECTOR, MANAGER, role_required
from invoices.models import Contact, ContactRole, Customer, DebtorType, Invoice, InvoiceStatus
from jobs.models import JobKind
from jobs.services import job_start

from . import print_tasks
from .context import FIELD_GROUPS
from .documents import statement_pdf
from .exceptions import LetterError, TemplateProblem
from .forms import LetterSettingsForm, PreviewForm, ReferenceRateForm, TemplateForm
from .models import Document, LetterSettings, ReferenceRate, Template
from .render import (
    SAMPLE_PORTAL_URL,
    Parts,
    consequences_declared,
    context_build,
    letter_pdf,
    message_render,
    sample_context,
)
from .selectors import print_queue, steps_without_template, templates_in_ladder_order
from .services import (
    letter_settings_update,
    print_batch_mark_printed,
    reference_rate_set,
    template_save,
    template_translate,
)
from .signals import steps_naming_templates

PREVIEW_DEADLINE_DAYS = 14
# A consumer's opt-out link as the preview shows it (each sent message carries its own).
SAMPLE_OPT_OUT = "https://example.com/portal/opt-out/preview/"
PARTS = ("subject", "body_text", "body_html", "letter_html")
FIELD_OF = {
    "Subject": "subject",
    "Plain text": "body_text",
    "HTML email": "body_html",
    "Letter": "letter_html",
}


def _posted(request):
    return request.POST if request.method == "POST" else None


@role_required(ADMIN)
def template_list(request):
    if request.method == "POST":
        source = get_object_or_404(Template, pk=request.POST.get("template") or 0)
        try:
            copy = template_translate(
                actor=request.user, template=source, language=request.POST.get("language", "")
            )
        except LetterError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{copy.name} ({copy.language}) started: translate it here.")
            return redirect("letters:template_edit", copy.pk)
        return redirect("letters:template_list")
    uses = steps_naming_templates()
    rows = templates_in_ladder_order(uses or ())
    return render(
        request,
        "letters/template_list.html",
        {
            "rows": rows,
            "english": [row.template for row in rows if row.template.language == "en"],
            "uses_known": uses is not None,
            "without_template": steps_without_template(uses or (), rows),
        },
    )


@role_required(ADMIN)
def template_edit(request, pk: int):
    template = get_object_or_404(Template, pk=pk)
    versions = list(template.versions.select_related("created_by").order_by("-number"))
    shown = versions[0]
    if request.GET.get("version", "").isdigit():
        shown = next((v for v in versions if v.number == int(request.GET["version"])), shown)
    form = TemplateForm(_posted(request), initial={name: getattr(shown, name) for name in PARTS})
    sample = _Sample.of(request.GET)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = template_save(
                actor=request.user,
                template=template,
                parts=Parts(*(data[name] for name in PARTS)),
                note=data["note"],
            )
        except LetterError as error:
            _add_problem(form, error)
        else:
            messages.success(request, f"{template.name} saved as version {version.number}.")
            return redirect("letters:template_edit", template.pk)
    return render(
        request,
        "letters/template_edit.html",
        {
            "template": template,
            "form": form,
            "versions": versions,
            "shown": shown,
            "preview_form": PreviewForm(),
            "field_groups": FIELD_GROUPS,
            "uses": _uses_of(template),
            "sample": sample,
            "debtor_types": DebtorType.choices,
            "check": _check(Parts.of(shown), sample_context(**sample.kwargs), who=sample.who),
        },
    )


def _uses_of(template: Template) -> list | None:
    uses = steps_naming_templates()
    return None if uses is None else [use for use in uses if use.template == template.key]


def _add_problem(form, error: LetterError) -> None:
    if isinstance(error, TemplateProblem):
        where = f"Line {error.line}: " if error.line else ""
        form.add_error(FIELD_OF.get(error.field), f"{where}{error.problem}")
    else:
        form.add_error("letter_html", str(error))


@dataclass(frozen=True)
class _Sample:
    """How the preview's sample customer is set up: their debtor type and whether their
    oldest invoice is past its limitation date (the editor switches both)."""

    debtor_type: str
    barred: bool

    @classmethod
    def of(cls, data) -> "_Sample":
        debtor_type = data.get("sample_debtor", "")
        if debtor_type not in DebtorType.values:
            debtor_type = DebtorType.BUSINESS
        return cls(debtor_type, data.get("sample_barred") == "1")

    @property
    def kwargs(self) -> dict:
        return {"debtor_type": self.debtor_type, "barred": self.barred}

    @property
    def who(self) -> str:
        debt = "past its limitation date" if self.barred else "within its limitation period"
        return f"the sample customer ({DebtorType(self.debtor_type).label.lower()}, debt {debt})"


def _check(parts: Parts, context: dict, *, who: str) -> dict:
    """The consequence check as the editor shows it: what the template states and, for the
    customer previewed, whether each may be said and why not."""
    try:
        declared = consequences_declared(parts)
    except LetterError:  # a part that does not parse: the preview says where
        declared = ()
    verdict = context["consequences"]
    rows = []
    for item in declared:
        allowed = item.name in verdict["allowed"]
        rows.append(
            {
                "label": item.label,
                "required": item.required,
                "allowed": allowed,
                "reason": "" if allowed else verdict["refused"][item.name],
            }
        )
    return {"rows": rows, "who": who}


def _preview_context(preview: PreviewForm, sample: _Sample) -> dict:
    """The context for a chosen customer (their open invoices and accounts-payable
    contact), or the sample customer as the editor set it up."""
    account = preview.cleaned_data.get("customer", "").strip()
    regime = preview.cleaned_data.get("interest", "")
    if not account:
        return sample_context(interest_regime=regime, **sample.kwargs)
    customer = Customer.objects.filter(external_id=account).select_related("collector").first()
    if customer is None:
        raise LetterError(f"There is no customer with account number {account}.")
    today = dt.date.today()
    invoices = [
        {"number": n, "due_date": d, "balance": b, "issue_date": i, "amount": a}
        for n, d, b, i, a in Invoice.objects.filter(
            customer=customer, status__in=(InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
        )
        .order_by("due_date", "number")
        .values_list("number", "due_date", "open_balance", "issue_date", "amount")[:200]
    ]
    contact = (
        Contact.objects.filter(customer=customer, role=ContactRole.ACCOUNTS_PAYABLE)
        .order_by("-is_primary", "pk")
        .first()
    )
    return context_build(
        customer=customer,
        contact=contact,
        invoices=invoices,
        today=today,
        step="Preview",
        deadline=_weekdays_after(today, PREVIEW_DEADLINE_DAYS),
        deadline_days=PREVIEW_DEADLINE_DAYS,
        collector=customer.collector,
        interest_regime=regime,
        opt_out_url=SAMPLE_OPT_OUT if customer.debtor_type == DebtorType.CONSUMER else "",
        portal_url=SAMPLE_PORTAL_URL,
        barred=sample.barred,
    )


def _weekdays_after(day: dt.date, days: int) -> dt.date:
    # A preview's deadline counts weekdays only; sent letters also skip public holidays.
    while days:
        day += dt.timedelta(days=1)
        days -= day.weekday() < 5
    return day


def _parts_from(form: TemplateForm, template: Template) -> Parts:
    data = form.data
    return Parts(*(data.get(name, "") for name in PARTS), name=template.name)


@role_required(ADMIN)
@require_POST
def template_preview(request, pk: int):
    """The live preview (htmx): the edit as it stands, rendered for the chosen customer."""
    template = get_object_or_404(Template, pk=pk)
    preview = PreviewForm(request.POST)
    parts = _parts_from(TemplateForm(request.POST), template)
    sample = _Sample.of(request.POST)
    result = {"parts": parts, "preview_form": preview}
    check = None
    try:
        preview.is_valid()
        context = _preview_context(preview, sample)
        account = preview.cleaned_data.get("customer", "").strip()
        who = sample.who
        if account:
            as_if = " (as if past its limitation date)" if sample.barred else ""
            who = f"customer {account}{as_if}"
        check = _check(parts, context, who=who)
        result["message"] = message_render(parts, context)
    except LetterError as error:
        result["error"] = error
    page = render_to_string("letters/_preview.html", result, request=request)
    if check is not None:
        # The check beside the preview follows it (an out-of-band swap).
        page += render_to_string(
            "letters/_consequence_check.html", {"check": check, "oob": True}, request=request
        )
    return HttpResponse(page)


# The editor shows this PDF in a frame of its own page; every other response keeps DENY.
@xframe_options_sameorigin
@role_required(ADMIN)
@require_POST
def template_preview_pdf(request, pk: int):
    template = get_object_or_404(Template, pk=pk)
    preview = PreviewForm(request.POST)
    try:
        preview.is_valid()
        parts = _parts_from(TemplateForm(request.POST), template)
        pdf = letter_pdf(parts, _preview_context(preview, _Sample.of(request.POST)))
    except LetterError as error:
        return render(request, "letters/_pdf_error.html", {"error": error}, status=400)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="preview.pdf"'
    return response


@role_required(ADMIN)
def settings_edit(request):
    current = LetterSettings.current()
    form = LetterSettingsForm(_posted(request), request.FILES or None, instance=current)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in LetterSettingsForm.Meta.fields}
        logo = data["logo_file"] or ((b"", "") if data["remove_logo"] else None)
        letter_settings_update(actor=request.user, changes=changes, logo=logo)
        messages.success(request, "Letter settings saved.")
        return redirect("letters:settings")
    return render(request, "letters/settings.html", {"form": form, "has_logo": bool(current.logo)})


@role_required(ADMIN)
def settings_logo(request):
    current = LetterSettings.current()
    if not current.logo:
        raise Http404("No logo")
    return HttpResponse(bytes(current.logo), content_type=current.logo_type)


@role_required(ADMIN)
def reference_rates(request):
    form = ReferenceRateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        saved = reference_rate_set(actor=request.user, **form.cleaned_data)
        messages.success(request, f"Saved: {saved}.")
        return redirect("letters:reference_rates")
    rates = ReferenceRate.objects.order_by("regime", "-valid_from")
    return render(request, "letters/reference_rates.html", {"form": form, "rates": rates})


@role_required(MANAGER)
def print_batch(request):
    items = list(print_queue())
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("item") if i.isdigit()]
        done = print_batch_mark_printed(actor=request.user, item_ids=ids)
        messages.success(request, f"{done} letter{'s' if done != 1 else ''} marked printed.")
        return redirect("letters:print_batch")
    if request.GET.get("download") and len(items) > print_tasks.WORKER_LETTERS:
        job = job_start(
            kind=JobKind.PRINT_BATCH,
            title=f"Letters to post ({len(items)})",
            user=request.user,
            task="letters.print_tasks.print_batch_task",
            params={
                "last_item": max(item.pk for item in items),
                "filename": f"letters-{dt.date.today().isoformat()}.pdf",
            },
            total=len(items),
            links=[("Back to the letters to post", reverse("letters:print_batch"))],
        )
        return redirect("jobs:detail", pk=job.pk)
    if request.GET.get("download") and items:
        writer = PdfWriter()
        for item in items:
            writer.append(io.BytesIO(bytes(item.document.content)))
        out = io.BytesIO()
        writer.write(out)
        response = HttpResponse(out.getvalue(), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="letters-{dt.date.today().isoformat()}.pdf"'
        )
        return response
    return render(request, "letters/print_batch.html", {"items": items})


@role_required(COLLECTOR)
@require_GET
def document_download(request, pk: int):
    document = get_object_or_404(Document, pk=pk)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["ETag"] = f'"{document.sha256}"'
    return response


@role_required(COLLECTOR)
@require_GET
def statement(request, pk: int):
    """The customer's statement of account as at today (rendered now, not stored)."""
    customer = get_object_or_404(Customer, pk=pk)
    pdf = statement_pdf(customer, today=dt.date.today())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{customer.external_id}-{dt.date.today()}.pdf"'
    )
    return response
