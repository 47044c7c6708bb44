"""Every endpoint and method of the API, called with generated requests built from the app's own
OpenAPI document: no 500s, and every answer is documented (status code, content type, body).

The schema is read from the app when the test runs, so endpoints added later are covered too."""

import json

import pytest
import schemathesis
from django.core.serializers.json import DjangoJSONEncoder as JSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import Scope
from collections_app.wsgi import application

# What the issue asks for; the stateful checks (e.g. "schema-valid data must be accepted") would
# flag a PUT naming an unknown customer, which rightly answers 400.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    # The generated requests would pass the default 600/min per token.
    settings.API_RATE_LIMIT = "1000000/min"


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # As Django's test client does: the WSGI handler would close the database connection
    # after each request, and with it the test's transaction (PostgreSQL).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def every_scope(make_token):
    _token, raw = make_token(scopes=[scope.value for scope in Scope])
    return {"Authorization": f"Bearer {raw}"}


def load_schema():
    """The document /api/v1/schema/ serves, generated in-process (collection has no database),
    with the app attached so requests go through the whole WSGI stack."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, cls=JSONEncoder)))
    loaded.app = application
    return loaded


schema = load_schema()


@schema.parametrize()
# Few examples and a fixed seed: fast and the same every run in CI.
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,  # nothing to replay with a fixed seed; no .hypothesis folder
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_every_endpoint_answers_as_documented(case, every_scope):
    case.call_and_validate(headers=every_scope, checks=CHECKS)


def test_an_unknown_address_answers_the_json_404_even_for_a_post_or_a_newline(db):
    # Both came out of the run above: the catch-all missed a path with a newline, and the
    # CSRF check answered a POST to an unknown address with an HTML 403.
    client = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")

    posted = client.post("/api/v1/promises/x,y/cancel/", {}, content_type="application/json")
    newline = client.get("/api/v1/customers/a%0Ab/c/")

    for response in (posted, newline):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_updated_since_takes_any_offset_and_refuses_a_moment_out_of_range(api):
    # PostgreSQL refused the +18:40 offset Python accepts (a 500); the other overflowed.
    far_offset = api.get("/api/v1/invoices/", {"updated_since": "0903-08-21T16:53:54+18:40"})
    too_early = api.get("/api/v1/customers/", {"updated_since": "0001-01-01T00:00:00+05:00"})

    assert far_offset.status_code == 200
    assert too_early.status_code == 400
    assert too_early.json()["error"]["details"][0]["field"] == "updated_since"
