import re

import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_the_document_is_valid_openapi_3_without_warnings(db, tmp_path):
    out = tmp_path / "schema.yml"

    # --validate checks it against the OpenAPI 3 JSON schema; any warning fails the command.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    document = yaml.safe_load(out.read_text())
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/customers/{external_id}/", "/api/v1/invoices/{number}/"} <= set(
        document["paths"]
    )
    assert document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_the_document_and_reference_need_no_token(db):
    client = APIClient()

    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Dunmore API"
    assert docs.status_code == 200
    page = docs.content.decode()
    # Swagger UI's scripts, styles and icon come from the app itself, never a CDN or a font
    # service (Redoc's page loads Google Fonts, so it is not used).
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
