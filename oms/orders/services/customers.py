"""Customer edits (客户资料): the name, phone and remark operators keep for a buyer, fully recorded."""

from __future__ import annotations

from django.db import transaction

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import FieldError, ValidationFailed
from oms.orders import actions
from oms.orders.models import Customer

LIMITS = {"name": 64, "phone": 32, "remark": 500}


@transaction.atomic(durable=True)
def customer_update(*, customer: Customer, actor: Actor, name: str, phone: str, remark: str) -> Customer:
    """Change a buyer's name, phone and remark; each too long a value is refused, naming its field."""
    values = {"name": name.strip(), "phone": phone.strip(), "remark": remark.strip()}
    errors = [
        FieldError(field, f"At most {limit} characters.", "too_long")
        for field, limit in LIMITS.items()
        if len(values[field]) > limit
    ]
    if values["phone"] and not all(c.isdigit() or c in "+- " for c in values["phone"]):
        errors.append(FieldError("phone", "A phone number has digits, spaces, + and - only.", "bad_phone"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    before = {f: getattr(locked, f) for f in values}
    changed = [f for f in values if before[f] != values[f]]
    if not changed:
        return locked
    for f in changed:
        setattr(locked, f, values[f])
    locked.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=actions.CUSTOMER_UPDATE,
        obj=locked,
        before={f: before[f] for f in changed},
        after={f: values[f] for f in changed},
    )
    return locked
