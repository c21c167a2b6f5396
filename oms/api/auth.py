"""Token (Bearer) and session authentication, and the per-action permission check every endpoint uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from oms.accounts.tokens import api_token_authenticate
from oms.core.errors import PermissionDenied

F = TypeVar("F", bound=Callable[..., Any])


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        operator = api_token_authenticate(token)
        if operator is not None:
            request.user = operator
        return operator


class SessionAuth(APIKeyCookie):
    """The console's logged-in session; CSRF-checked like any form post."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


AUTH = [TokenAuth(), SessionAuth(csrf=True)]


def require_perm(*perms: str) -> Callable[[F], F]:
    """Mark an endpoint with the per-action permission it needs and enforce it. Deny by default:
    a test walks every operation and fails on any that has neither this nor an explicit public mark."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = request.user
            if not user.is_authenticated or not user.is_active:
                raise PermissionDenied("Authentication required.", code="not_authenticated")
            missing = [p for p in perms if not user.has_perm(p)]
            if missing:
                raise PermissionDenied(
                    f"You lack the permission {', '.join(missing)} for this action.",
                    extra={"missing_permissions": missing},
                )
            return func(request, *args, **kwargs)

        wrapper.required_perms = perms  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(func: F) -> F:
    func.required_perms = ()  # type: ignore[attr-defined]
    return func
