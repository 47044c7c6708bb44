"""Letters to PDF with WeasyPrint, reaching nothing but what a letter may show.

Templates are edited by users, so the URL fetcher serves only the organisation's letterhead
(dunmore:letterhead), the project's own fonts (dunmore:font/NAME) and inline data: URIs, and
refuses everything else — file:, http(s): and any other scheme — before anything is read.
A refused reference stops the render with a message naming it."""

import base64
from pathlib import Path
from urllib.parse import unquote_to_bytes

from django.conf import settings
from weasyprint import CSS, HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .exceptions import LetterError

FONTS_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
FONT_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf"}


class RefusedResource(FatalURLFetchingError):
    pass


class SafeFetcher(URLFetcher):
    def __init__(self, *, logo: bytes = b"", logo_type: str = ""):
        super().__init__(allowed_protocols=())
        self.logo = logo
        self.logo_type = logo_type

    def fetch(self, url, headers=None):
        if url == "dunmore:letterhead" and self.logo:
            return URLFetcherResponse(url, self.logo, {"Content-Type": self.logo_type})
        if url.startswith("dunmore:font/"):
            name = url.removeprefix("dunmore:font/")
            path = FONTS_DIR / name
            # A bare file name of a font we ship: no directories, no traversal.
            if "/" not in name and path.suffix in FONT_TYPES and path.is_file():
                body = path.read_bytes()
                return URLFetcherResponse(url, body, {"Content-Type": FONT_TYPES[path.suffix]})
        if url.startswith("data:"):
            return _data(url)
        raise RefusedResource(
            f"The letter refers to {url[:200]}; letters may show only the letterhead, "
            "the built-in fonts and inline (data:) images."
        )


def _data(url: str) -> URLFetcherResponse:
    head, _, payload = url[5:].partition(",")
    media_type = head.split(";")[0] or "text/plain"
    body = base64.b64decode(payload) if head.endswith(";base64") else unquote_to_bytes(payload)
    return URLFetcherResponse(url, body, {"Content-Type": media_type})


def render_pdf(html: str, *, css: str = "", logo: bytes = b"", logo_type: str = "") -> bytes:
    """The PDF of a complete HTML document. Raises LetterError when the document refers to
    anything it may not, or WeasyPrint cannot lay it out."""
    fetcher = SafeFetcher(logo=logo, logo_type=logo_type)
    try:
        # A base of our own scheme: relative references come to the fetcher (and are
        # refused by name) instead of being dropped with only a log line.
        document = HTML(string=html, url_fetcher=fetcher, base_url="dunmore:/")
        stylesheets = [CSS(string=css, url_fetcher=fetcher)] if css else []
        return document.write_pdf(stylesheets=stylesheets)
    except RefusedResource as error:
        raise LetterError(str(error)) from None
    except FatalURLFetchingError as error:
        raise LetterError(f"The letter could not be laid out: {error}") from None
