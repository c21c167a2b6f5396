"""Issue 17 item 10 / What 2: the OpenAPI document is the one contract — unique schema names (a second
schema of the same name silently replaces the first), every status an operation can answer declared
with the one error body."""

from __future__ import annotations

import typing
from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from oms.api.auth import api_operations
from oms.api.v1 import api


def _models(annotation: Any, seen: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        _models(arg, seen)


def _schema_models() -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    for _path, op in api_operations(api):
        for model in op.models:
            for field in model.model_fields.values():
                _models(field.annotation, seen)
        for response in op.response_models.values():
            if isinstance(response, type) and issubclass(response, BaseModel):
                for field in response.model_fields.values():
                    _models(field.annotation, seen)
    return seen


def test_schema_names_are_unique() -> None:
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in _schema_models():
        if model.__module__.startswith("oms."):
            by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    assert len(by_name) > 40
    assert {name: where for name, where in by_name.items() if len(where) > 1} == {}


def test_stock_transfer_is_documented_as_the_server_reads_it() -> None:
    schema = api.get_openapi_schema()
    ref = schema["paths"]["/api/v1/stock/transfers"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body = schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    assert set(body["required"]) == {"source", "destination", "lines"}


def test_every_operation_declares_its_errors_with_the_error_body() -> None:
    schema = api.get_openapi_schema()
    assert "ErrorOut" in schema["components"]["schemas"]
    count = 0
    for path, item in schema["paths"].items():
        for method, op in item.items():
            count += 1
            statuses = set(op["responses"])
            assert {401, 422} <= statuses, (method, path)
            if method != "get":
                assert {400, 409, 413} <= statuses, (method, path)
            if "{" in path:
                assert 404 in statuses, (method, path)
            for status in statuses - {200, 201}:
                content = op["responses"][status]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
    assert count >= 60


def test_order_intake_declares_its_created_and_replayed_answers() -> None:
    op = api.get_openapi_schema()["paths"]["/api/v1/orders"]["post"]
    assert {200, 201} <= set(op["responses"])


# ---- the schemas are the validation (what schemathesis found; scripts/api_fuzz.sh)


def _body_schemas(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every object schema a request body reaches (components through $ref, nested properties, items)."""
    components = schema["components"]["schemas"]
    found: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()

    def walk(where: str, node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    walk(name, components[name])
                return
            if node.get("type") == "object" and "properties" in node:
                found.append((where, node))
            for value in node.values():
                walk(where, value)
        elif isinstance(node, list):
            for value in node:
                walk(where, value)

    for path, item in schema["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is not None:
                walk(f"{method} {path}", body)
    return found


def test_request_bodies_declare_every_property_they_take() -> None:
    bodies = _body_schemas(api.get_openapi_schema())
    assert len(bodies) > 30
    # Not yet: the bodies their services read themselves (intake, signed payment callbacks), documented by a
    # schema the server does not validate with (known failures in schemathesis.toml).
    raw = {"post /api/v1/orders", "post /api/v1/orders/bulk", "post /api/v1/payments/callbacks/{method}"}
    assert {where for where, node in bodies if node.get("additionalProperties") is not False} == raw


def test_a_property_the_body_does_not_declare_is_refused_by_name(make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("administrator"))
    r = client.post("/api/v1/rules/validate", {"condition": "order.payable > 0", "extra": 1}, "application/json")
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"field": "extra", "message": "Extra inputs are not permitted", "code": "unknown_field"}
    ]
    ok = client.post("/api/v1/rules/validate", {"condition": "order.payable > 0"}, "application/json")
    assert ok.status_code == 200


def test_days_and_times_declare_the_years_and_offsets_they_take(make_operator: Any, api_client: Any) -> None:
    import re

    from oms.api.types import DAY_SCHEMA, WHEN_SCHEMA

    day, when = re.compile(DAY_SCHEMA["pattern"]), re.compile(WHEN_SCHEMA["pattern"])
    client = api_client(make_operator("administrator"))
    for value, valid in [("1970-01-01", True), ("9998-12-31", True), ("1969-12-31", False), ("9999-01-01", False)]:
        assert bool(day.match(value)) is valid, value
        status = client.get("/api/v1/payments/totals", {"from": value}).status_code
        assert status == (200 if valid else 422), value
    for value, valid in [
        ("2026-01-15T10:00:00+08:00", True),
        ("2026-01-15T10:00:00Z", True),
        ("2026-01-15T10:00:00-14:00", True),
        ("2026-01-15T10:00:00+14:01", False),
        ("1770-01-09T22:28:08-18:48", False),
    ]:
        assert bool(when.match(value)) is valid, value


def test_maps_keyed_by_line_say_their_keys_are_line_numbers() -> None:
    schema = api.get_openapi_schema()["components"]["schemas"]
    for name, prop in [("UnitsIn", "units"), ("InspectIn", "good"), ("InspectIn", "defective")]:
        assert schema[name]["properties"][prop]["propertyNames"] == {"pattern": "^[1-9][0-9]{0,17}$"}, name
    received = schema["ReceiveIn"]["properties"]["received"]["anyOf"][0]
    assert received["propertyNames"] == {"pattern": "^[1-9][0-9]{0,17}$"}


def test_naming_something_that_does_not_exist_is_404(make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("administrator"))
    r = client.post("/api/v1/interceptions/release", {"ids": [9_000_000], "note": "ok"}, "application/json")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_a_search_filtered_by_an_unknown_sku_or_channel_finds_nothing(make_operator: Any, api_client: Any) -> None:
    # Found by the fuzzer: the empty page lacked the column the search orders by (500).
    client = api_client(make_operator("administrator"))
    for params in ({"sku": "NO-SUCH-SKU", "q": "1"}, {"channel": "NOSUCH", "q": "13800138000"}):
        r = client.get("/api/v1/orders", params)
        assert r.status_code == 200, params
        assert r.json()["items"] == []


def test_a_cancel_reason_is_declared_as_required_text() -> None:
    reason = api.get_openapi_schema()["components"]["schemas"]["StockCancelIn"]["properties"]["reason"]
    assert (reason["minLength"], reason["pattern"]) == (1, r"\S")
