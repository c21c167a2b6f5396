from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from oms.api.v1 import api
from oms.channels.models import Channel


def _operations() -> list[tuple[str, str, Any]]:
    ops = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                ops.append((f"{prefix}{path}", ",".join(operation.methods), operation.view_func))
    return ops


def test_every_api_operation_declares_its_permission() -> None:
    """Deny by default: an endpoint without a declared permission (or an explicit public mark) fails here."""
    ops = _operations()
    assert ops
    undeclared = [f"{methods} {path}" for path, methods, func in ops if not hasattr(func, "required_perms")]
    assert undeclared == []


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            out += _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            out.append((prefix + str(p.pattern), p.callback))
    return out


def test_every_console_view_requires_login_and_names_its_permission() -> None:
    public = {"login/", "logout/"}
    console = [
        (route, view)
        for route, view in _walk(get_resolver().url_patterns)
        if not route.startswith(("admin/", "api/", "i18n/", "healthz"))
    ]
    assert console
    missing = [route for route, view in console if route not in public and not hasattr(view, "required_perms")]
    assert missing == []


def test_healthz_reports_database(db: Any, client: Client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_anonymous_request_gets_401_in_the_common_format(db: Any, client: Client) -> None:
    response = client.get("/api/v1/channels")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_bad_token_is_401(db: Any) -> None:
    response = Client(HTTP_AUTHORIZATION="Bearer oms_dead_beef").get("/api/v1/channels")
    assert response.status_code == 401


def test_operator_without_permission_gets_403_naming_it(make_operator: Any, api_client: Any) -> None:
    response = api_client(make_operator()).get("/api/v1/channels")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert error["missing_permissions"] == ["channels.view_channel"]


def test_token_with_permission_reads_and_me_lists_roles(make_operator: Any, api_client: Any) -> None:
    Channel.objects.create(code="TMALL", name="天猫旗舰店", platform="tmall", classification="online")
    client = api_client(make_operator("finance", username="fin"))
    assert [c["code"] for c in client.get("/api/v1/channels").json()] == ["TMALL"]
    me = client.get("/api/v1/me").json()
    assert me["username"] == "fin" and me["roles"] == ["finance"]
    assert "audit.view_operationlog" in me["permissions"]


def test_session_auth_works_for_reads(make_operator: Any) -> None:
    client = Client()
    client.force_login(make_operator("finance"))
    assert client.get("/api/v1/channels").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_openapi_docs_are_served(db: Any, client: Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_request_id_is_echoed_or_made(db: Any, client: Client) -> None:
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert len(client.get("/healthz", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]) == 32


def test_api_docs_short_address_redirects(db: Any, client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 302 and response["Location"] == "/api/v1/docs"


def test_schema_errors_use_the_common_format_with_field_paths(make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("administrator"))
    response = client.post(
        "/api/v1/rules", {"code": "", "priority": "high", "params": []}, content_type="application/json"
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {d["field"] for d in error["details"]}
    assert {"code", "priority", "name", "condition", "params"} <= fields
    assert all(d["message"] for d in error["details"])


def test_malformed_json_is_a_clear_422_not_a_500(make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("administrator"))
    response = client.post("/api/v1/rules", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "error" in response.json()
