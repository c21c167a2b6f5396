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
