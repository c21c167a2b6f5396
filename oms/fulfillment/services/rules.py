"""Checking warehouse and courier rule parameters when a rule is saved: the format
(`oms.fulfillment.domain.rule_params`) and that every code names an existing warehouse or courier.

`oms.review.services.rule_save` should call `rule_params_check` before saving (the review app owns it)."""

from __future__ import annotations

from typing import Any

from oms.core.errors import FieldError, ValidationFailed
from oms.fulfillment.domain.rule_params import rule_params_errors
from oms.fulfillment.models import Courier
from oms.inventory.models import Warehouse


def rule_params_check(*, kind: str, params: Any) -> None:
    """Raise ValidationFailed (422, field-named) unless ``params`` suit a rule of ``kind``."""
    errors = rule_params_errors(kind, params)
    if not errors and kind in ("warehouse", "courier"):
        warehouses = set(Warehouse.objects.values_list("code", flat=True))
        couriers = set(Courier.objects.values_list("code", flat=True))
        known = {"warehouse": warehouses, "warehouses": warehouses, "courier": couriers, "couriers": couriers}
        if kind == "warehouse":
            known["exclude"] = warehouses
        else:
            known["exclude"] = couriers
        for key, codes in known.items():
            value = params.get(key)
            listed = [value] if isinstance(value, str) else list(value or [])
            unknown = [c for c in listed if c not in codes]
            if unknown:
                errors.append(FieldError(f"params.{key}", f"Unknown codes: {', '.join(unknown)}.", "unknown"))
    if errors:
        raise ValidationFailed(f"The rule's parameters are invalid: {errors[0].message}", details=errors)
