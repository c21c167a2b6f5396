"""Allocation rules (C1) as operators edit them: save (create or change) and delete, each with its operation-log
row in the same transaction; `allocation_rule_apply` and `allocation_rule_remove` also re-allocate the quotas
afterwards (``channel_stock_reallocate``, in its own short transactions), as the console does in one action."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from oms.audit.services import audit_record, model_snapshot
from oms.channels import actions
from oms.channels.models import AllocationRule
from oms.channels.services.allocation import AllocationSummary, channel_stock_reallocate
from oms.core.actors import Actor
from oms.core.domain.limits import MAX_CHANNEL_QUANTITY
from oms.core.errors import FieldError, NotFound, ValidationFailed

RULE_FIELDS = [
    "channel",
    "scope",
    "category",
    "sku",
    "method",
    "ratio_bp",
    "fixed_quantity",
    "forecast_days",
    "min_quantity",
    "max_quantity",
    "safety_stock",
    "priority",
    "is_active",
]


def allocation_rule_validate(*, rule: AllocationRule) -> None:
    """Model validation as the service's field-named `ValidationFailed` (nothing is written)."""
    too_large = [
        FieldError(name, f"At most {MAX_CHANNEL_QUANTITY} units.", "too_large")
        for name in ("fixed_quantity", "min_quantity", "max_quantity", "safety_stock")
        if isinstance(getattr(rule, name), int) and getattr(rule, name) > MAX_CHANNEL_QUANTITY
    ]
    if too_large:
        raise ValidationFailed("The allocation rule is invalid.", details=too_large)
    try:
        rule.full_clean()
    except ValidationError as exc:
        details = [FieldError(field, str(msg), "invalid") for field, msgs in exc.message_dict.items() for msg in msgs]
        raise ValidationFailed("The allocation rule is invalid.", details=details) from exc


@transaction.atomic(durable=True)
def allocation_rule_save(*, rule: AllocationRule, actor: Actor) -> AllocationRule:
    """Create ``rule`` or store its changes; the log row holds the saved values before and after."""
    allocation_rule_validate(rule=rule)
    before = None
    if rule.pk:
        saved = AllocationRule.objects.select_for_update().filter(pk=rule.pk).first()
        if saved is None:
            raise NotFound(f"No allocation rule {rule.pk}.")
        before = model_snapshot(saved, RULE_FIELDS)
    rule.save()
    audit_record(
        actor=actor,
        action=actions.CHANNELS_ALLOCATION_RULE_SAVE,
        obj=rule,
        before=before,
        after=model_snapshot(rule, RULE_FIELDS),
    )
    return rule


@transaction.atomic(durable=True)
def allocation_rule_delete(*, rule_id: int, actor: Actor, reason: str = "") -> None:
    rule = AllocationRule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(f"No allocation rule {rule_id}.")
    before = model_snapshot(rule, RULE_FIELDS)
    audit_record(actor=actor, action=actions.CHANNELS_ALLOCATION_RULE_DELETE, obj=rule, before=before, reason=reason)
    rule.delete()


def allocation_rule_apply(*, rule: AllocationRule, actor: Actor) -> AllocationSummary:
    """Save the rule, then re-allocate every channel's quotas under the rules now in force."""
    allocation_rule_save(rule=rule, actor=actor)
    return channel_stock_reallocate()


def allocation_rule_remove(*, rule_id: int, actor: Actor, reason: str = "") -> AllocationSummary:
    """Delete the rule, then re-allocate every channel's quotas without it."""
    allocation_rule_delete(rule_id=rule_id, actor=actor, reason=reason)
    return channel_stock_reallocate()
