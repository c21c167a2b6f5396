"""Issue 17 What 3: the authorisation matrix. Every operation × every seeded role, an operator with no
role, no credentials, and revoked, expired, malformed and foreign tokens. The expected answer of each cell
is derived from the permissions the operation declares (`require_perm`), never written by hand:

- no valid credentials → 401; a signed callback called with an operator token → 401 (it wants a signature);
- a role lacking a declared permission → 403;
- otherwise the call is let through (anything but 401/403: 2xx, 404 for the made-up numbers, 409, 422).

Every request carries a body that does not fit the operation, so a deny is 401/403 whatever the body.
Then the field-level permissions: each role reads a real order, and the fields it may not see are null.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from oms.accounts.models import ApiToken
from oms.accounts.roles import ROLES
from oms.accounts.tokens import api_token_create
from oms.api.auth import api_operations
from oms.api.fields import FIELD_PERMISSIONS
from oms.api.v1 import api

pytestmark = pytest.mark.django_db

OPERATIONS = [
    (
        method,
        path,
        getattr(op.view_func, "required_perms", None),
        # "public": no operator authentication at all (a platform's push receiver checks its own HMAC).
        getattr(op.view_func, "auth_kind", "") or ("" if op.auth_callbacks else "public"),
    )
    for path, op in api_operations(api)
    for method in op.methods
]
PATH_VALUES = {"number": "SO1", "method": "alipay", "code": "X-1", "warehouse": "HZ01", "provider": "local"}
JUNK_BODY = json.dumps({"junk": [1, "x", None]})


def _url(path: str) -> str:
    return "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m[1], "1"), path)


def _call(client: Client, method: str, path: str) -> Any:
    if method == "GET":
        return client.get(_url(path))
    return client.generic(method, _url(path), JUNK_BODY, content_type="application/json")


def _token_client(operator: Any, *, change: Callable[[ApiToken], None] | None = None) -> Client:
    token, plaintext = api_token_create(operator=operator, name="matrix")
    if change is not None:
        change(token)
        token.save()
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def _revoke(token: ApiToken) -> None:
    token.revoked_at = timezone.now()


def _expire(token: ApiToken) -> None:
    token.expires_at = timezone.now() - timedelta(seconds=1)


@pytest.fixture
def principals(make_operator: Any) -> dict[str, tuple[Client, set[str] | None]]:
    """name → (client, the permissions it holds; None for callers that must not get past authentication)."""
    out: dict[str, tuple[Client, set[str] | None]] = {}
    for role in ROLES:
        operator = make_operator(role, username=f"m-{role}")
        out[role] = (_token_client(operator), operator.get_all_permissions())
    nobody = make_operator(username="m-nobody")
    out["no role"] = (_token_client(nobody), set())
    admin = make_operator("administrator", username="m-admin2")
    out["no credentials"] = (Client(), None)
    out["revoked token"] = (_token_client(admin, change=_revoke), None)
    out["expired token"] = (_token_client(admin, change=_expire), None)
    out["malformed token"] = (Client(HTTP_AUTHORIZATION="Bearer oms_\x00_zz"), None)
    out["unknown token"] = (Client(HTTP_AUTHORIZATION="Bearer oms_00000000_" + "a" * 43), None)
    out["basic auth"] = (Client(HTTP_AUTHORIZATION="Basic YWRtaW46YWRtaW4="), None)
    inactive = make_operator("administrator", username="m-inactive")
    client = _token_client(inactive)
    inactive.is_active = False
    inactive.save()
    out["inactive operator"] = (client, None)
    return out


def _expected(perms: tuple[str, ...], auth_kind: str, held: set[str] | None) -> str:
    if auth_kind == "public":
        return "allow"
    if held is None or auth_kind:
        return "401"
    return "allow" if set(perms) <= held else "403"


def test_every_operation_declares_its_permission() -> None:
    assert len(OPERATIONS) >= 60
    assert [f"{m} {p}" for m, p, perms, _ in OPERATIONS if perms is None] == []


def test_authorisation_matrix(principals: dict[str, tuple[Client, set[str] | None]]) -> None:
    unexpected = []
    cells = 0
    for method, path, perms, auth_kind in OPERATIONS:
        for name, (client, held) in principals.items():
            expected = _expected(perms, auth_kind, held)
            response = _call(client, method, path)
            cells += 1
            got = str(response.status_code)
            ok = got not in ("401", "403") if expected == "allow" else got == expected
            if ok and got in ("401", "403"):
                ok = response.json()["error"]["code"] in {"not_authenticated", "permission_denied"}
            if not ok:
                unexpected.append(
                    f"{method} {path} as {name}: expected {expected}, got {got} {response.content[:120]!r}"
                )
    assert unexpected == []
    assert cells == len(OPERATIONS) * len(principals)
    print(f"authorisation matrix: {len(OPERATIONS)} operations x {len(principals)} principals = {cells} calls")


def test_a_console_session_without_csrf_cannot_write_but_can_read(make_operator: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_operator("administrator"))
    writes = [(m, p) for m, p, _perms, kind in OPERATIONS if m != "GET" and not kind]
    assert writes
    for method, path in writes:
        response = _call(client, method, path)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/me").status_code == 200


# ---- field-level permissions


def _leaves(data: Any, key: str) -> list[Any]:
    if isinstance(data, dict):
        return [v for k, v in data.items() if k == key] + [x for v in data.values() for x in _leaves(v, key)]
    if isinstance(data, list):
        return [x for v in data for x in _leaves(v, key)]
    return []


@pytest.mark.parametrize(
    "role", sorted(r for r, (_label, perms) in ROLES.items() if "orders.view_order" in perms or r == "administrator")
)
def test_fields_are_hidden_where_the_role_lacks_their_permission(
    role: str, make_order: Any, make_operator: Any, api_client: Any
) -> None:
    order = make_order()
    operator = make_operator(role)
    client = api_client(operator)
    detail = client.get(f"/api/v1/orders/{order.number}").json()
    listing = client.get("/api/v1/orders").json()
    assert detail["receiver"]["city"]  # the rest of the order stays visible
    for perm, keys in FIELD_PERMISSIONS.items():
        for key in keys:
            values = _leaves(detail, key) + _leaves(listing, key)
            if operator.has_perm(perm):
                continue
            assert all(v is None for v in values), (role, key, values)
    if operator.has_perm("orders.view_customer"):
        assert detail["receiver"]["phone"] and detail["receiver"]["address"]
    else:
        assert detail["receiver"]["phone"] is None and detail["receiver"]["address"] is None
        assert listing["items"][0]["receiver_phone"] is None
    transaction_ids = _leaves(detail["payments"], "transaction_id")
    assert transaction_ids
    if operator.has_perm("orders.view_payment"):
        assert all(transaction_ids)
    else:
        assert all(t is None for t in transaction_ids)


def test_the_warehouse_coordinator_is_the_reported_case(make_order: Any, make_operator: Any, api_client: Any) -> None:
    order = make_order()
    body = api_client(make_operator("warehouse_coordinator")).get(f"/api/v1/orders/{order.number}").json()
    assert body["receiver"]["phone"] is None and body["receiver"]["address"] is None
    assert [p["transaction_id"] for p in body["payments"]] == [None]


def test_a_conflict_does_not_show_contact_data_to_a_caller_who_may_not_see_it(
    tmall: Any, skus: Any, make_operator: Any, api_client: Any
) -> None:
    """A 409 lists what differs from the platform order already taken in: for a caller without
    orders.view_customer the receiver's phone and address differ by path only, their values are null."""
    from django.contrib.auth.models import Permission

    from oms.testing.orders import order_payload

    entry = make_operator()
    entry.user_permissions.add(Permission.objects.get(codename="add_order", content_type__app_label="orders"))
    payload = order_payload()
    client = api_client(entry)
    assert client.post("/api/v1/orders", payload, content_type="application/json").status_code == 201
    changed = {**payload, "receiver": {**payload["receiver"], "phone": "13900001111", "address": "文一路99号"}}
    answer = client.post("/api/v1/orders", changed, content_type="application/json")
    assert answer.status_code == 409
    differences = {d["field"]: d for d in answer.json()["error"]["differences"]}
    assert set(differences) >= {"receiver.phone", "receiver.address"}
    for field in ("receiver.phone", "receiver.address"):
        assert differences[field]["existing"] is None and differences[field]["incoming"] is None
    # an administrator sees the values
    seen = api_client(make_operator("administrator")).post("/api/v1/orders", changed, content_type="application/json")
    assert {d["field"]: d["incoming"] for d in seen.json()["error"]["differences"]}["receiver.phone"] == "13900001111"
