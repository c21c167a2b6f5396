"""The console rule editor edits a warehouse or courier rule's parameters with the same save-time check as
the API (`RULE_PARAM_CHECKS`), errors shown under the field; a live check (htmx) for the kind chosen; only
operators who may edit rules save."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from oms.audit.models import OperationLog
from oms.review.models import Rule
from oms.testing.fulfillment import World


def _client(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def _form(rule: Rule, params: str) -> dict[str, str]:
    return {
        "kind": rule.kind,
        "code": rule.code,
        "name": rule.name,
        "condition": rule.condition,
        "reason": rule.reason,
        "priority": str(rule.priority),
        "enabled": "on",
        "params": params,
    }


def test_operator_edits_params_and_bad_params_are_field_errors(world: World, make_operator: Any) -> None:
    rule = Rule.objects.create(
        kind="warehouse", code="TEA-HZ", name="茶叶走杭州", condition='"TEA-001" in skus', params={"warehouse": "HZ01"}
    )
    admin = _client(make_operator("administrator"))
    page = admin.get(f"/rules/{rule.pk}/").content.decode()
    assert 'data-testid="params"' in page and "&quot;warehouse&quot;: &quot;HZ01&quot;" in page

    # Valid: designated warehouses, saved and logged with before and after.
    r = admin.post(f"/rules/{rule.pk}/", _form(rule, json.dumps({"warehouses": ["GZ01", "HZ01"], "only": True})))
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.params == {"warehouses": ["GZ01", "HZ01"], "only": True}
    log = OperationLog.objects.filter(action="rule.save", object_id=str(rule.pk)).latest("id")
    assert log.before == {"params": {"warehouse": "HZ01"}} and log.after["params"]["only"] is True

    # Invalid: an unknown warehouse, a designation without warehouses, not JSON, not an object. (Service
    # messages are English; the JSON checks are translated, so for them only "JSON" is asserted.)
    for params, message in [
        ('{"warehouse": "XX99"}', "params.warehouse: Unknown codes: XX99."),
        ('{"only": true}', "params.warehouses: A designation names its warehouses."),
        ('{"warehouse": "HZ01",}', "JSON"),
        ("[1, 2]", "JSON"),
        ('{"tie_breaks": ["fastest"]}', "params.tie_breaks: Unknown strategies"),
    ]:
        r = admin.post(f"/rules/{rule.pk}/", _form(rule, params))
        html = r.content.decode()
        assert r.status_code == 200, params
        check = html.split('id="params-check"', 1)[1].split("</div>", 1)[0]
        assert 'data-testid="params-error"' in check and message in check.replace("&#x27;", "'"), (params, check)
        assert params.replace('"', "&quot;") in html  # what was typed stays in the field
    rule.refresh_from_db()
    assert rule.params == {"warehouses": ["GZ01", "HZ01"], "only": True}

    # Courier rules: a wrongly typed flag is refused, a keyword courier saved.
    courier_rule = Rule.objects.create(
        kind="courier", code="SF-KW", name="顺丰", condition="true", params={"courier": "SF"}
    )
    r = admin.post(f"/rules/{courier_rule.pk}/", _form(courier_rule, '{"courier": "SF", "designated": "yes"}'))
    assert "params.designated: true or false." in r.content.decode()
    r = admin.post(f"/rules/{courier_rule.pk}/", _form(courier_rule, '{"couriers": ["ZTO", "SF"], "exclude": []}'))
    assert r.status_code == 302
    courier_rule.refresh_from_db()
    assert courier_rule.params == {"couriers": ["ZTO", "SF"], "exclude": []}


def test_params_need_the_edit_permission_and_validate_live(world: World, make_operator: Any) -> None:
    rule = Rule.objects.create(kind="warehouse", code="W", name="W", condition="true", params={"warehouse": "HZ01"})
    reviewer = _client(make_operator("order_reviewer"))
    r = reviewer.post(f"/rules/{rule.pk}/", _form(rule, '{"warehouse": "GZ01"}'))
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.params == {"warehouse": "HZ01"}

    ok = reviewer.post("/rules/validate-params/", {"kind": "warehouse", "params": '{"exclude": ["CD01"]}'})
    assert 'data-testid="params-ok"' in ok.content.decode()
    bad = reviewer.post("/rules/validate-params/", {"kind": "courier", "params": '{"couriers": ["NOPE"]}'})
    assert "params.couriers: Unknown codes: NOPE." in bad.content.decode()
    assert (
        'data-testid="params-ok"'
        in reviewer.get("/rules/validate-params/", {"kind": "review", "params": ""}).content.decode()
    )
    service = _client(make_operator("customer_service"))
    assert service.post("/rules/validate-params/", {"kind": "warehouse", "params": "{}"}).status_code == 403
