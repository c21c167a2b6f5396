"""No request makes the API answer 500: random bodies and path values for every operation, as an
administrator, must get a 2xx or a 4xx in the common error format."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.api.v1 import api

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "12.34", "1e9", "TMALL", "13800138000", "浙江", "2026-01-01T00:00:00+08:00"]),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)


def _operations() -> list[tuple[str, str, list[str]]]:
    schema = api.get_openapi_schema()
    ops = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in body:
                body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
            query = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
            ops.append((method.upper(), path, sorted(body.get("properties", {})) if method != "get" else query))
    return ops


OPERATIONS = _operations()


def _body(keys: list[str]) -> st.SearchStrategy[Any]:
    shaped = st.fixed_dictionaries({}, optional={k: JSON for k in keys}) if keys else st.just({})
    return st.one_of(shaped, JSON)


@pytest.mark.parametrize(("method", "path", "keys"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_random_input_never_causes_a_server_error(
    method: str, path: str, keys: list[str], make_operator: Any, api_client: Any
) -> None:
    client = api_client(make_operator("administrator", username=f"fuzz{abs(hash((method, path))) % 10**8}"))

    @settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
    @given(body=_body(keys), segment=st.text(alphabet="abcXYZ019-_", min_size=1, max_size=12))
    def probe(body: Any, segment: str) -> None:
        url = re.sub(r"\{[^}]+\}", segment, path)
        if method == "GET":
            params = (
                {k: json.dumps(v) if not isinstance(v, str) else v for k, v in body.items()}
                if isinstance(body, dict)
                else {}
            )
            response = client.get(url, {k: v for k, v in params.items() if k})
        else:
            response = client.generic(method, url, json.dumps(body), content_type="application/json")
        assert response.status_code < 500, (method, url, body, response.content[:500])
        if response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
            assert "error" in response.json()

    probe()
