"""The OpenAPI document as the one contract: every status an operation can answer is declared, each
error with the one error body.

Which errors an operation can answer follows from how every request is handled (`oms.api.auth`,
`oms.api.guard`, the exception handlers in `oms.api.v1`), so it is declared here once by rule rather
than by hand on 64 operations:

- 401 for every operation (no, bad, revoked or expired credentials; a signed callback's bad signature);
- 403 for every operator operation (a declared permission is missing; a console session without CSRF);
- 422 for every operation (the input guard checks path and query values of all of them);
- 404 when an operation names something (a path parameter, or a body that refers to codes and numbers);
- 400, 409 and 413 for every operation that writes (a state conflict, a body over the size limit).

Success statuses other than the one ninja infers are declared on the view with `answers`.

Request bodies declare every property they take: a property a body schema does not name is refused (422
`extra_forbidden` naming it), and the document says so (`additionalProperties: false`) — also by rule, for
every body model and the models nested in it (`forbid_undeclared_properties`).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from ninja import NinjaAPI, Schema
from pydantic import BaseModel, ConfigDict, Field

F = TypeVar("F", bound=Callable[..., Any])


class FieldErrorOut(Schema):
    field: str = Field(description="The path of the field, e.g. lines[0].quantity; body for the whole body")
    message: str
    code: str = Field(description="Machine-readable, stable: required, too_long, bad_character, …")


class ErrorBodyOut(Schema):
    # Some errors carry more, e.g. missing_permissions, order_number, differences, allowed_next.
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Machine-readable, stable: validation_error, permission_denied, …")
    message: str
    details: list[FieldErrorOut]


class ErrorOut(Schema):
    error: ErrorBodyOut


_REASONS = {
    400: "The request cannot be carried out as sent.",
    401: "No valid credentials: send Authorization: Bearer <token> (or a signed request, for callbacks).",
    403: "Authenticated, but a permission this operation declares is missing (listed in missing_permissions).",
    404: "Something the request names does not exist.",
    409: "The current state does not allow it (e.g. the order's status), or a conflicting earlier request.",
    413: "The body is larger than the limit.",
    422: "A field is invalid; every problem is listed in details with its field path.",
}
_WRITES = {"post", "put", "patch", "delete"}


def answers(*statuses: int) -> Callable[[F], F]:
    """Declare success statuses an operation answers besides its default (e.g. 200 for a replay, 201)."""

    def mark(func: F) -> F:
        func.extra_statuses = statuses  # type: ignore[attr-defined]
        return func

    return mark


def error_statuses(method: str, path: str, op: dict[str, Any], *, operator: bool) -> list[int]:
    statuses = [401, 422]
    if operator:
        statuses.append(403)
    if "{" in path or "requestBody" in op:
        statuses.append(404)
    if method in _WRITES:
        statuses += [400, 409, 413]
    return sorted(statuses)


def declare_statuses(schema: dict[str, Any], views: dict[tuple[str, str], Callable[..., Any]]) -> dict[str, Any]:
    """Add the error body and every error status (and extra success statuses) to each operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldErrorOut, ErrorBodyOut, ErrorOut):
        components[model.__name__] = _component(model)
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            view = views.get((method, path))
            # Signed callbacks and public receivers (no operator security) never answer 403.
            operator = not getattr(view, "auth_kind", "") and bool(op.get("security"))
            responses = op.setdefault("responses", {})  # ninja keys statuses by int
            for status in error_statuses(method, path, op, operator=operator):
                responses.setdefault(
                    status, {"description": _REASONS[status], "content": {"application/json": {"schema": ref}}}
                )
            _declare_success(responses, getattr(view, "extra_statuses", ()))
    return schema


def _declare_success(responses: dict[Any, Any], statuses: Iterable[int]) -> None:
    default = next((v for k, v in responses.items() if str(k).startswith("2")), {"description": "OK"})
    for status in statuses:
        responses.setdefault(status, default)


def _component(model: type[Schema]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


def forbid_undeclared_properties(api: NinjaAPI) -> None:
    """Make every request body model (and each model nested in one) refuse properties it does not declare."""
    from oms.api.auth import api_operations

    done: set[type[BaseModel]] = set()
    for _path, operation in api_operations(api):
        for params in getattr(operation, "models", []):
            if getattr(params, "__ninja_param_source__", "") != "body":
                continue
            for field in params.model_fields.values():
                for model in _models_in(field.annotation):
                    _forbid(model, done)
            params.model_rebuild(force=True)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _forbid(model: type[BaseModel], done: set[type[BaseModel]]) -> None:
    """Nested models first, so a model rebuilt after them embeds their new schema."""
    if model in done:
        return
    done.add(model)
    for field in model.model_fields.values():
        for nested in _models_in(field.annotation):
            _forbid(nested, done)
    model.model_config["extra"] = "forbid"
    model.model_rebuild(force=True)
