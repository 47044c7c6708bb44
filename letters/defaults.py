"""The default set of templates for the default ladder, shipped from letters/defaults/<key>/
(subject.txt, body.txt, body.html and, for letters, letter.html).

Put in place after every migrate or flush, for any key that has no template yet. A template
still at a shipped text gets a new version when a release changes that text (its versions
are kept); a template an admin has edited is never overwritten."""

from pathlib import Path

from django.apps import apps as global_apps

DEFAULTS_DIR = Path(__file__).parent / "defaults"

# key -> (name, description)
SHIPPED = {
    "courtesy_reminder": ("Courtesy reminder", "Sent before the due date: a friendly heads-up."),
    "friendly_reminder": (
        "Friendly reminder",
        "Just overdue: warm, asks whether anything is wrong.",
    ),
    "second_reminder": ("Second reminder", "A clear restatement of what is owed, oldest first."),
    "firm_reminder": ("Firm reminder", "Firmer: the consequences the terms allow."),
    "final_demand": (
        "Final demand",
        "The final demand letter (PDF, emailed and posted) and its covering email.",
    ),
    "letter_of_claim": (
        "Letter of claim",
        "For individuals and sole traders in England and Wales, in place of the final "
        "demand: the Pre-Action Protocol's Letter of Claim with its Information Sheet, Reply "
        "Form and Financial Statement (PDF, emailed and posted), and its covering email.",
    ),
    "satisfaction_check": (
        "Satisfaction check",
        "A few days after issue, before the due date: did the invoice arrive and is all in "
        "order? Links to answer on the customer's page (for a satisfaction check step).",
    ),
}


def shipped_text(key: str) -> dict[str, str]:
    folder = DEFAULTS_DIR / key
    letter = folder / "letter.html"
    return {
        "subject": (folder / "subject.txt").read_text().strip(),
        "body_text": (folder / "body.txt").read_text(),
        "body_html": (folder / "body.html").read_text(),
        "letter_html": letter.read_text() if letter.exists() else "",
    }


def ship_defaults(apps=global_apps) -> None:
    Template = apps.get_model("letters", "Template")
    TemplateVersion = apps.get_model("letters", "TemplateVersion")
    have = set(Template.objects.filter(language="en").values_list("key", flat=True))
    for key, (name, description) in SHIPPED.items():
        if key in have:
            continue
        template = Template.objects.create(
            key=key, language="en", name=name, description=description
        )
        TemplateVersion.objects.create(
            template=template, number=1, note=SHIPPED_NOTE, **shipped_text(key)
        )


SHIPPED_NOTE = "Shipped default"


def refresh_shipped(apps=global_apps) -> int:
    """A new version, with this release's text, of each shipped template whose latest version
    is still a shipped one (its note says so) and differs from it; returns how many."""
    Template = apps.get_model("letters", "Template")
    TemplateVersion = apps.get_model("letters", "TemplateVersion")
    refreshed = 0
    for template in Template.objects.filter(language="en", key__in=list(SHIPPED)):
        latest = TemplateVersion.objects.filter(template=template).order_by("-number").first()
        if latest is None or not latest.note.startswith(SHIPPED_NOTE):
            continue
        text = shipped_text(template.key)
        if all(getattr(latest, part) == value for part, value in text.items()):
            continue
        TemplateVersion.objects.create(
            template=template,
            number=latest.number + 1,
            note=f"{SHIPPED_NOTE}, updated with a new release",
            **text,
        )
        refreshed += 1
    return refreshed


def ship_rates(apps=global_apps) -> None:
    """The shipped reference-rate tables, for a regime that has no rows yet."""
    from .interest import RATE_TABLES

    ReferenceRate = apps.get_model("letters", "ReferenceRate")
    for regime, table in RATE_TABLES.items():
        if not ReferenceRate.objects.filter(regime=regime).exists():
            ReferenceRate.objects.bulk_create(
                ReferenceRate(regime=regime, valid_from=row.valid_from, rate=row.rate)
                for row in table
            )


def on_post_migrate(sender, apps=global_apps, **kwargs) -> None:
    ship_defaults(apps)
    refresh_shipped(apps)
    ship_rates(apps)
