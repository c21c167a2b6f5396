"""The ``params`` of warehouse and courier rules: their format, checked when a rule is saved.

Warehouse rule (``Rule(kind="warehouse")``), when its condition holds::

    {"warehouse": "HZ01"}                      prefer HZ01 when it can serve the whole order
    {"warehouses": ["SH01", "HZ01"]}           prefer these, in this order
    {"warehouses": ["GZ01"], "only": true}     designated: no other warehouse may ship the order
    {"exclude": ["CD01"]}                      never ship from CD01
    {"tie_breaks": ["distance", "stock"]}      tie-break order for this order (stock, packages, distance, cost)

Courier rule (``Rule(kind="courier")``)::

    {"courier": "SF"}                          use SF (if it can carry the parcel)
    {"couriers": ["ZTO", "YTO"]}               the cheapest of these
    {"courier": "JDL", "designated": true}     buyer/platform-designated: JDL or hold the order
    {"exclude": ["EMS"]}                       never EMS
    {"warehouses": ["HZ01"]}                   the rule applies only to parcels leaving HZ01

Keys may be combined; unknown keys and wrongly typed values are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oms.core.errors import FieldError, ValidationFailed
from oms.fulfillment.domain.allocation import TIE_BREAKS, WarehouseDirective
from oms.fulfillment.domain.courier import CourierDirective

WAREHOUSE_KEYS = {"warehouse", "warehouses", "only", "exclude", "tie_breaks"}
COURIER_KEYS = {"courier", "couriers", "designated", "exclude", "warehouses"}


def _codes(params: Mapping[str, Any], one: str, many: str) -> tuple[str, ...]:
    out: list[str] = []
    if params.get(one):
        out.append(str(params[one]))
    out += [str(c) for c in params.get(many) or [] if str(c) not in out]
    return tuple(out)


def rule_params_errors(kind: str, params: Any) -> list[FieldError]:
    """What is wrong with ``params`` for a rule of ``kind`` (empty when fine). Codes are checked by
    `oms.fulfillment.services.rules.rule_params_check`, which also knows the warehouses and couriers."""
    if kind not in ("warehouse", "courier"):
        return []
    if not isinstance(params, dict):
        return [FieldError("params", "Parameters are a JSON object.", "invalid")]
    allowed = WAREHOUSE_KEYS if kind == "warehouse" else COURIER_KEYS
    errors = [
        FieldError(f"params.{k}", f"Unknown parameter {k!r}; allowed: {', '.join(sorted(allowed))}.", "unknown")
        for k in params
        if k not in allowed
    ]
    for key in ("warehouse", "courier"):
        if key in params and key in allowed and not isinstance(params[key], str):
            errors.append(FieldError(f"params.{key}", "A code (text).", "invalid"))
    for key in ("warehouses", "couriers", "exclude", "tie_breaks"):
        if key in params and key in allowed:
            value = params[key]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                errors.append(FieldError(f"params.{key}", "A list of codes (text).", "invalid"))
    for key in ("only", "designated"):
        if key in params and key in allowed and not isinstance(params[key], bool):
            errors.append(FieldError(f"params.{key}", "true or false.", "invalid"))
    if kind == "warehouse" and isinstance(params.get("tie_breaks"), list):
        bad = [t for t in params["tie_breaks"] if t not in TIE_BREAKS]
        if bad:
            errors.append(
                FieldError("params.tie_breaks", f"Unknown strategies {bad}; use {', '.join(TIE_BREAKS)}.", "invalid")
            )
    if not errors:
        targets = _codes(params, kind, f"{kind}s")
        if kind == "warehouse" and params.get("only") and not targets:
            errors.append(FieldError("params.warehouses", "A designation names its warehouses.", "required"))
        if kind == "courier" and params.get("designated") and not targets:
            errors.append(FieldError("params.courier", "A designation names its courier.", "required"))
        if not errors and not targets and not params.get("exclude") and not params.get("tie_breaks"):
            errors.append(FieldError("params", f"Name a {kind} to use or to exclude.", "required"))
    return errors


def rule_params_validate(kind: str, params: Any) -> None:
    errors = rule_params_errors(kind, params)
    if errors:
        raise ValidationFailed(f"The rule's parameters are invalid: {errors[0].message}", details=errors)


def warehouse_directive(rule_id: int | None, rule_code: str, params: Mapping[str, Any]) -> WarehouseDirective:
    return WarehouseDirective(
        rule_id=rule_id,
        rule_code=rule_code,
        prefer=_codes(params, "warehouse", "warehouses"),
        only=bool(params.get("only")),
        exclude=tuple(params.get("exclude") or ()),
        tie_breaks=tuple(params.get("tie_breaks") or ()),
    )


def courier_directive(rule_id: int | None, rule_code: str, params: Mapping[str, Any]) -> CourierDirective:
    return CourierDirective(
        rule_id=rule_id,
        rule_code=rule_code,
        couriers=_codes(params, "courier", "couriers"),
        exclude=tuple(params.get("exclude") or ()),
        designated=bool(params.get("designated")),
        warehouses=tuple(params.get("warehouses") or ()),
    )
