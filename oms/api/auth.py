"""Who is calling, and may they: token (Bearer) or console-session authentication, then the per-action
permission every operation declares — both before the request body is read or validated.

Order of checks on every operation (installed by `gate_operations`):
1. authentication: a Bearer token when an ``Authorization`` header is sent (a bad, revoked or expired
   token is 401 at once), else the console session (CSRF-checked, like any form post), else 401;
2. authorisation: the operation's declared permissions (`require_perm`), 403 naming the missing ones;
3. only then the input guard (`oms.api.guard`) and the schema validation of the body and parameters.
So a caller without the right never learns what the body should look like, and a deny is 401/403
whatever the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from django.http import HttpRequest, HttpResponse
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from oms.accounts.tokens import api_token_authenticate
from oms.core.errors import PermissionDenied

if TYPE_CHECKING:
    from ninja import NinjaAPI
    from ninja.operation import Operation

F = TypeVar("F", bound=Callable[..., Any])

# What a token can look like (oms_<prefix>_<secret>); anything else is refused before any look-up.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")


class TokenAuth(HttpBearer):
    """A Bearer token. A header that is sent but is not a valid, active token is a 401, never a fall-back."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header)
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not _TOKEN_RE.match(token.strip()):
            raise AuthenticationError()
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        operator = api_token_authenticate(token)
        if operator is None:
            raise AuthenticationError()
        request.user = operator
        return operator


class SessionAuth(APIKeyCookie):
    """The console's logged-in session; CSRF-checked like any form post. No session: not this scheme."""

    param_name = "sessionid"

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise PermissionDenied(
                "CSRF check failed: a console session must send the csrftoken cookie's value as X-CSRFToken.",
                code="csrf_failed",
            )
        return self.authenticate(request, request.COOKIES.get(self.param_name))

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user


AUTH = [TokenAuth(), SessionAuth(csrf=True)]


def require_perm(*perms: str) -> Callable[[F], F]:
    """Declare the per-action permissions an operation needs. Deny by default: `gate_operations` enforces
    them before the body is read, and a test fails on any operation that declares nothing."""

    def decorate(func: F) -> F:
        func.required_perms = perms  # type: ignore[attr-defined]
        return func

    return decorate


def public(func: F) -> F:
    func.required_perms = ()  # type: ignore[attr-defined]
    return func


def authorise(request: HttpRequest, perms: tuple[str, ...]) -> None:
    """403 naming what is missing. Operators only: a signed callback's principal is a string."""
    user = getattr(request, "user", None)
    if not perms:
        return
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Authentication required.", code="not_authenticated")
    missing = [p for p in perms if not user.has_perm(p)]
    if missing:
        raise PermissionDenied(
            f"You lack the permission {', '.join(missing)} for this action.",
            extra={"missing_permissions": missing},
        )


def api_operations(api: NinjaAPI) -> Iterator[tuple[str, Operation]]:
    """Every mounted operation with its full path (as served)."""
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                yield "/" + "/".join(p.strip("/") for p in (bound.prefix, path) if p.strip("/")), operation


def gate_operations(api: NinjaAPI, guard: Callable[[HttpRequest, Any], None]) -> None:
    """Run, for every operation, authentication → declared permission → input guard before ninja parses
    anything. (Ninja's own order is authentication → body validation → view.)"""
    for _path, operation in api_operations(api):
        perms: tuple[str, ...] = getattr(operation.view_func, "required_perms", ())
        operation._run_checks = _gated(operation, perms, guard)  # type: ignore[method-assign,assignment]


def _gated(
    operation: Operation, perms: tuple[str, ...], guard: Callable[[HttpRequest, Any], None]
) -> Callable[[HttpRequest], HttpResponse | None]:
    authenticate = operation._run_checks

    def run_checks(request: HttpRequest) -> HttpResponse | None:
        error = authenticate(request)
        if error is not None:
            return error
        try:
            authorise(request, perms)
            guard(request, operation.view_func)
        except Exception as exc:
            return operation.api.on_exception(request, exc)
        return None

    return run_checks
