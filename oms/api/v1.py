"""The v1 API: one NinjaAPI, one error format for every endpoint.

Every error body is ``{"error": {"code", "message", "details": [{"field", "message", "code"}]}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from oms.api.auth import AUTH, api_operations, gate_operations
from oms.api.contract import declare_statuses, forbid_undeclared_properties
from oms.api.fields import hidden_keys, redact
from oms.api.guard import CachedJsonParser, guard_request
from oms.api.routers import (
    aftersales,
    catalog,
    connectors,
    customers,
    fulfillment,
    invoicing,
    meta,
    orders,
    outbox,
    payments,
    reports,
    review,
    splitmerge,
    stock,
)
from oms.core.errors import ApplicationError

logger = logging.getLogger("oms.api")


class OmsApi(NinjaAPI):
    """The contract's two global rules: field-level permissions on every response body, and every status
    an operation can answer declared in the OpenAPI document (`oms.api.contract`)."""

    def create_response(
        self,
        request: HttpRequest,
        data: Any,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        data = redact(data, hidden_keys(getattr(request, "user", None)))
        return super().create_response(request, data, status=status, temporal_response=temporal_response)

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        prefix = self.get_root_path(path_params or {}) if path_prefix is None else path_prefix
        views = {
            (method.lower(), "/" + prefix.strip("/") + path): op.view_func
            for path, op in api_operations(self)
            for method in op.methods
        }
        return declare_statuses(schema, views)


api = OmsApi(
    title="OMS API",
    version="1",
    description="Order management system: orders, stock, fulfilment. All amounts are decimal strings.",
    auth=AUTH,
    docs_url="/docs",
    urls_namespace="api-v1",
    parser=CachedJsonParser(),
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: list[Any] | None = None, **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message, "details": details or []}
    body.update(extra)
    return api.create_response(request, {"error": body}, status=status)


def _loc_to_field(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header")]
    out = ""
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "body"


# Schema errors speak the codes the services and domain readers use for the same problems.
_SCHEMA_CODES = {
    "missing": "required",
    "less_than_equal": "too_large",
    "less_than": "too_large",
    "greater_than_equal": "too_small",
    "greater_than": "too_small",
    "string_too_long": "too_long",
    "too_long": "too_many",
    "extra_forbidden": "unknown_field",
}


@api.exception_handler(NinjaValidationError)
def on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [
        {
            "field": _loc_to_field(err.get("loc", [])),
            "message": err.get("msg", "invalid"),
            "code": _SCHEMA_CODES.get(err.get("type", ""), err.get("type", "invalid")),
        }
        for err in exc.errors
    ]
    return error_response(request, 422, "validation_error", f"{len(details)} field(s) are invalid.", details)


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    body = exc.as_dict()
    return api.create_response(request, {"error": body}, status=exc.status)


@api.exception_handler(DjangoValidationError)
def on_model_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    details = []
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.message_dict.items():
            details += [{"field": field_name, "message": m, "code": "invalid"} for m in errors]
    else:
        details = [{"field": "body", "message": m, "code": "invalid"} for m in exc.messages]
    return error_response(request, 422, "validation_error", "The request is invalid.", details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, "not_authenticated", "Send a valid API token (Authorization: Bearer …) or log in."
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(DatabaseOperationalError)
@api.exception_handler(DatabaseInterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database is restarting, unreachable or timed out: nothing was committed, so the client may send
    the same request again (with its Idempotency-Key) — a 503 with Retry-After, not a 500."""
    logger.warning("API request failed on the database: %s", exc)
    response = error_response(
        request, 503, "database_unavailable", "The database is briefly unavailable; send the same request again."
    )
    response["Retry-After"] = "1"
    return response


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error")
    return error_response(request, 500, "internal_error", "Something went wrong on our side; it has been logged.")


api.add_router("/", meta.router)
# Fixed paths such as /orders/merge must come before the /orders/{number} patterns.
api.add_router("/", splitmerge.router)
api.add_router("/", orders.router)
api.add_router("/", payments.router)
api.add_router("/", customers.router)
api.add_router("/", outbox.router)
api.add_router("/", review.router)
api.add_router("/", catalog.router)
api.add_router("/", stock.router)
api.add_router("/", fulfillment.router)
api.add_router("/", connectors.router)
api.add_router("/", reports.router)
api.add_router("/", aftersales.router)
api.add_router("/", invoicing.router)
forbid_undeclared_properties(api)
# Authentication, then the declared permission, then the input guard: before any body is validated.
gate_operations(api, guard_request)
