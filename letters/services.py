"""Writes for letters: template versions, letter settings, stored documents, printing."""

import dataclasses
import re

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.services import audit_record

from .exceptions import LetterError
from .models import (
    Document,
    DocumentKind,
    LetterSettings,
    PrintItem,
    ReferenceRate,
    Template,
    TemplateVersion,
)
from .render import Parts, parts_check

LOGO_TYPES = {"image/png", "image/jpeg"}


@transaction.atomic
def template_save(*, actor, template: Template, parts: Parts, note: str = "") -> TemplateVersion:
    """Save an edit as the template's next version. Checked first by rendering it for a
    sample customer: a TemplateProblem (with its line) saves nothing, and so does a template
    that goes over its render budget for a busy customer (TemplateTooCostly)."""
    parts_check(dataclasses.replace(parts, name=template.name))
    # Lock the template row: two admins saving at once get consecutive numbers.
    Template.objects.select_for_update().get(pk=template.pk)
    latest = template.versions.aggregate(n=Max("number"))["n"] or 0
    version = TemplateVersion.objects.create(
        template=template,
        number=latest + 1,
        subject=parts.subject,
        body_text=parts.body_text,
        body_html=parts.body_html,
        letter_html=parts.letter_html,
        note=note[:200],
        created_by=actor,
    )
    audit_record(
        action="letters.template.saved",
        actor=actor,
        summary=f"{template.name} ({template.language}) saved as version {version.number}"
        + (f": {note}" if note else ""),
        data={"template": template.key, "language": template.language, "version": version.number},
    )
    return version


@transaction.atomic
def letter_settings_update(*, actor, changes: dict, logo: tuple[bytes, str] | None = None):
    """Change letter settings; logo is (bytes, content type), or (b"", "") to remove it."""
    settings = LetterSettings.current()
    before = {field: getattr(settings, field) for field in changes}
    for field, value in changes.items():
        setattr(settings, field, value)
    if logo is not None:
        settings.logo, settings.logo_type = logo
    settings.save()
    changed = {f: [str(before[f]), str(v)] for f, v in changes.items() if before[f] != v}
    if logo is not None:
        changed["logo"] = ["", "replaced" if logo[0] else "removed"]
    if changed:
        audit_record(
            action="letters.settings.updated",
            actor=actor,
            summary="Letter settings changed: " + ", ".join(sorted(changed)),
            data={"changes": changed},
        )
    return settings


def document_store(
    *,
    kind: str,
    customer_id: int,
    filename: str,
    content: bytes,
    template_version=None,
    actor=None,
    content_type: str = "application/pdf",
) -> Document:
    """Store a generated file once; its SHA-256 is taken from the bytes as stored."""
    return Document.objects.create(
        kind=kind,
        customer_id=customer_id,
        filename=filename,
        content=content,
        content_type=content_type,
        template_version=template_version,
        created_by=actor,
    )


@transaction.atomic
def signed_terms_attach(*, actor, customer, filename: str, content: bytes) -> Document:
    """Keep the credit terms a customer signed (a PDF); earlier ones stay on record."""
    document = document_store(
        kind=DocumentKind.SIGNED_TERMS,
        customer_id=customer.pk,
        filename=filename,
        content=content,
        actor=actor,
    )
    audit_record(
        action="ledger.customer.terms_attached",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Signed terms {filename} attached",
        data={"document_id": document.pk, "filename": filename, "sha256": document.sha256},
    )
    return document


def print_queue_add(*, document: Document) -> PrintItem:
    item, _ = PrintItem.objects.get_or_create(document=document)
    return item


@transaction.atomic
def print_batch_mark_printed(*, actor, item_ids: list[int]) -> int:
    """Mark these queued letters printed (those not already marked)."""
    items = list(
        PrintItem.objects.select_for_update()
        .filter(pk__in=item_ids, printed_at__isnull=True)
        .select_related("document")
    )
    now = timezone.now()
    PrintItem.objects.filter(pk__in=[i.pk for i in items]).update(printed_at=now, printed_by=actor)
    for item in items:
        audit_record(
            action="letters.letter.printed",
            actor=actor,
            customer_id=item.document.customer_id,
            summary=f"{item.document.filename} printed for posting",
            data={"document_id": item.document_id, "sha256": item.document.sha256},
        )
    return len(items)


@transaction.atomic
def reference_rate_set(*, actor, regime: str, valid_from, rate) -> ReferenceRate:
    """Set the reference rate of a regime for the half-year starting valid_from."""
    row = ReferenceRate.objects.select_for_update().filter(regime=regime, valid_from=valid_from)
    before = row.first()
    saved, _ = ReferenceRate.objects.update_or_create(
        regime=regime, valid_from=valid_from, defaults={"rate": rate}
    )
    audit_record(
        action="letters.reference_rate.set",
        actor=actor,
        summary=f"{saved.get_regime_display()}: reference rate from {valid_from} "
        f"{'changed from ' + str(before.rate) + '% ' if before else ''}set to {rate}%",
        data={
            "regime": regime,
            "valid_from": str(valid_from),
            "before": str(before.rate) if before else None,
            "after": str(rate),
        },
    )
    return saved


LANGUAGE_CODE = r"^[a-z]{2,3}$"


@transaction.atomic
def template_translate(*, actor, template: Template, language: str) -> Template:
    """Start a template in another language from the current text of this one; customers
    who chose that language, or whose country speaks it, then get it."""
    language = language.strip().lower()
    if not re.match(LANGUAGE_CODE, language):
        raise LetterError("Give the language as its two-letter code, e.g. de or fr.")
    if Template.objects.filter(key=template.key, language=language).exists():
        raise LetterError(f"{template.name} already exists in {language}.")
    source = template.versions.order_by("-number").first()
    copy = Template.objects.create(
        key=template.key,
        language=language,
        name=template.name,
        description=template.description,
    )
    TemplateVersion.objects.create(
        template=copy,
        number=1,
        subject=source.subject,
        body_text=source.body_text,
        body_html=source.body_html,
        letter_html=source.letter_html,
        note=f"Copied from {template.language} v{source.number}: to be translated",
        created_by=actor,
    )
    audit_record(
        action="letters.template.translated",
        actor=actor,
        summary=f"{template.name}: {language} version started from {template.language}",
        data={"template": template.key, "from": template.language, "to": language},
    )
    return copy
