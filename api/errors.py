"""The one error shape of the API: {"error": {"code", "message", "details": [...]}}.

details lists {"field", "message"} for each invalid field; a field inside a list of rows is
named with its row, e.g. {"line": 3, "field": "amount", ...} (line counts from 1)."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

MESSAGES = {
    "invalid": "The request has errors; see details.",
}


class Unprocessable(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used with a different request."


class Refused(exceptions.APIException):
    """A well-formed change the ledger or dunning refuses (more than is left to apply, a plan
    already ended); nothing was changed. The message is the service's own, fit to show."""

    status_code = 422
    default_code = "refused"
    default_detail = "The change was refused; nothing was changed."


def refused(error: Exception) -> Refused:
    if isinstance(error, DjangoValidationError):
        return Refused(" ".join(error.messages))
    return Refused(str(error))


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = "Another request with this Idempotency-Key is in progress; retry shortly."


def from_django(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return exceptions.ValidationError({"non_field_errors": error.messages})


def field_errors(detail, field: str = "", line: int | None = None) -> list[dict]:
    """Flatten DRF's nested error detail into a list of {line?, field, message}."""
    if isinstance(detail, dict):
        return [
            error
            for name, inner in detail.items()
            for error in field_errors(inner, f"{field}.{name}" if field else str(name), line)
        ]
    if isinstance(detail, list):
        if any(isinstance(item, dict) for item in detail):  # rows: name each by its line
            return [
                error
                for index, item in enumerate(detail, start=1)
                for error in field_errors(item, "", index)
            ]
        return [error for item in detail for error in field_errors(item, field, line)]
    error = {"field": field or "non_field_errors", "message": str(detail)}
    if line is not None:
        error = {"line": line, **error}
    return [error]


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        error = {"code": "invalid", "message": MESSAGES["invalid"]}
        error["details"] = field_errors(exc.detail)
    else:
        codes = exc.get_codes()
        error = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(exc.detail),
            "details": [],
        }
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            error["details"] = [{"retry_after_seconds": round(exc.wait)}]
    response.data = {"error": error}
    return response


# csrf_exempt: a POST to an unknown address must get this 404, not the CSRF check's HTML 403.
@csrf_exempt
@login_not_required
def not_found(request, *args, **kwargs):
    body = {"error": {"code": "not_found", "message": "No such API address.", "details": []}}
    return JsonResponse(body, status=404)
