"""Every error comes in one shape: {"error": {"code", "message", "details": [...]}}."""

from rest_framework.test import APIClient

from api.errors import field_errors


def test_field_errors_of_rows_carry_their_line():
    detail = [{}, {"amount": ["Too small."]}, {"due_date": ["Bad date."], "customer": ["Unknown."]}]

    assert field_errors(detail) == [
        {"line": 2, "field": "amount", "message": "Too small."},
        {"line": 3, "field": "due_date", "message": "Bad date."},
        {"line": 3, "field": "customer", "message": "Unknown."},
    ]


def test_nested_fields_are_named_by_their_path():
    assert field_errors({"address": {"city": ["Required."]}, "non_field_errors": ["No."]}) == [
        {"field": "address.city", "message": "Required."},
        {"field": "non_field_errors", "message": "No."},
    ]


def test_a_method_not_allowed_has_the_shape(api):
    response = api.delete("/api/v1/customers/C1/")

    assert response.status_code == 405
    assert response.json() == {
        "error": {
            "code": "method_not_allowed",
            "message": 'Method "DELETE" not allowed.',
            "details": [],
        }
    }


def test_malformed_json_has_the_shape(api):
    response = api.generic(
        "PUT", "/api/v1/customers/C1/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_no_token_has_the_shape(db):
    response = APIClient().get("/api/v1/invoices/")

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Send a token: Authorization: Bearer <token>.",
            "details": [],
        }
    }
