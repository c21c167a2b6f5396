from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from oms.console.navigation import ADMIN_NAV, NAV, NavItem


def _visible(request: HttpRequest, items: list[NavItem]) -> list[dict[str, Any]]:
    user = request.user
    out = []
    for item in items:
        if item.perm is not None and not user.has_perm(item.perm):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        out.append({"label": item.label, "url": url, "active": request.path == url})
    return out


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "admin_nav_items": []}
    return {"nav_items": _visible(request, NAV), "admin_nav_items": _visible(request, ADMIN_NAV)}
