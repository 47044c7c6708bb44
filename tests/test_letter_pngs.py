"""The final demand as the customer sees it: each page rasterised by Chromium's PDF viewer
and kept in test-artifacts/ to look at (short: 2 invoices, long: 34)."""

import io
from importlib import import_module

import pytest
from django.apps import apps
from pypdf import PdfReader

from dunning.models import Policy
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from dunning.tests.test_pre_action import letter_of_claim_pdf
from invoices.demo import DEMO_ORGANISATION
from invoices.models import Organisation
from letters.demo import DEMO_LETTERHEAD
from letters.documents import statement_pdf
from letters.tests.test_letterhead import final_demand_pdf, letterhead_set

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ladder"),
]

A4_AT_96_DPI = {"width": 794, "height": 1123}
# A drawn page compresses to more than this; a blank viewer to far less.
BLANK_BYTES = 20_000


def logo() -> bytes:
    """A plain wordmark-sized PNG, to see the letterhead with a logo in it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 90), "#1f3a5f")
    ImageDraw.Draw(image).rectangle((18, 18, 72, 72), fill="#e8b04a")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def demo_letterhead_set():
    Organisation.objects.update_or_create(pk=1, defaults={"name": DEMO_ORGANISATION})
    letterhead_set(
        **DEMO_LETTERHEAD,
        payment_link="https://pay.example.com/invoices/{number}",
        logo=logo(),
        logo_type="image/png",
    )


def _rendered(page, *, seconds: float = 15) -> bytes:
    """A screenshot once the viewer has drawn the page: a busy machine draws it late, and
    a blank viewer's screenshot is small. Blank after `seconds`: the last (blank) shot."""
    page.wait_for_timeout(1200)
    shot = page.screenshot()
    for _ in range(int(seconds / 0.5)):
        if len(shot) > BLANK_BYTES:
            break
        page.wait_for_timeout(500)
        shot = page.screenshot()
    return shot


def pages_to_png(page, pdf: bytes, folder, name: str) -> list:
    """One PNG per page of the PDF; returns their paths."""
    for stale in folder.glob(f"{name}-page-*.png"):
        stale.unlink()
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    page.set_viewport_size(A4_AT_96_DPI)
    shots = []
    for number in range(1, len(PdfReader(io.BytesIO(pdf)).pages) + 1):
        # The viewer ignores a changed fragment: load it afresh for each page.
        page.goto("about:blank")
        page.goto(f"{source.as_uri()}#page={number}&toolbar=0&navpanes=0&view=Fit")
        shot = folder / f"{name}-page-{number}.png"
        shot.write_bytes(_rendered(page))
        shots.append(shot)
    return shots


@pytest.mark.parametrize(("name", "invoices"), [("short", 2), ("long", 34)])
def test_the_final_demand_is_kept_as_png_pages(browser_page, artifacts, name, invoices):
    demo_letterhead_set()

    shots = pages_to_png(
        browser_page, final_demand_pdf(invoices=invoices), artifacts, f"final-demand-{name}"
    )

    assert shots and all(shot.stat().st_size > BLANK_BYTES for shot in shots)  # not blank pages


def test_the_statement_is_kept_as_png_pages(browser_page, artifacts):
    demo_letterhead_set()
    customer = overdue_customer(days=40, invoices=12, name="Harbour Fab Ltd")

    pdf = statement_pdf(customer, today=MONDAY_10.date())
    shots = pages_to_png(browser_page, pdf, artifacts, "statement")

    assert shots and all(shot.stat().st_size > BLANK_BYTES for shot in shots)


@pytest.mark.parametrize(
    ("name", "invoices", "customer"),
    [
        ("sole-trader", 3, {"debtor_type": "sole_trader"}),
        ("consumer", 1, {"debtor_type": "consumer", "name": "Sam Okoro", "contact": ""}),
    ],
)
def test_the_letter_of_claim_is_kept_as_png_pages(
    browser_page, artifacts, name, invoices, customer
):
    demo_letterhead_set()
    # A flush puts the shipped ladder back from its first migration only (dunning.ladder):
    # give it its Letter of Claim as the later migration does.
    import_module("dunning.migrations.0015_letter_of_claim_ladder").ship(apps, None)
    Policy.objects.filter(name="Standard").update(interest_regime="uk")

    pdf = letter_of_claim_pdf(invoices=invoices, **customer)
    shots = pages_to_png(browser_page, pdf, artifacts, f"letter-of-claim-{name}")

    assert len(shots) >= 4  # the letter, then the Information Sheet, Reply Form and statement
    assert all(shot.stat().st_size > BLANK_BYTES for shot in shots)  # not blank pages
