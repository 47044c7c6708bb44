"""Letters render to PDF without reaching anything but the letterhead and built-in fonts."""

import http.server
import io
import threading

import pytest
from pypdf import PdfReader

from letters.exceptions import LetterError
from letters.pdf import render_pdf


@pytest.fixture
def server():
    """A real web server on this machine, counting the requests that reach it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"p { color: red }")

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", hits
    httpd.shutdown()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    "html",
    [
        '<img src="{url}/logo.png">',
        '<link rel="stylesheet" href="{url}/style.css">',
        '<p style="background: url({url}/bg.png)">Pay now</p>',
        "<style>@import url({url}/import.css);</style>",
    ],
)
def test_a_letter_reaching_for_a_web_address_is_refused_and_nothing_is_fetched(server, html):
    url, hits = server

    with pytest.raises(LetterError) as refused:
        render_pdf(html.format(url=url))

    assert f"refers to {url}/" in str(refused.value)
    assert hits == []


@pytest.mark.parametrize(
    "html",
    [
        '<img src="file:///etc/passwd">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<img src="/etc/passwd">',
        '<object data="../../collections_app/settings.py"></object>',
    ],
)
def test_a_letter_reaching_for_a_file_is_refused_with_a_clear_message(html):
    with pytest.raises(LetterError) as refused:
        render_pdf(html)

    assert "letters may show only the letterhead" in str(refused.value)


def test_inline_images_and_the_letterhead_are_allowed():
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
    )
    pdf = render_pdf(
        '<img src="dunmore:letterhead"><p>Final demand</p>', logo=png, logo_type="image/png"
    )

    assert pdf.startswith(b"%PDF")
    assert "Final demand" in pdf_text(pdf)
