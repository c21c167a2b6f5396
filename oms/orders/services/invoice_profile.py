"""The buyer's invoice details (发票信息, L5) on an order, and kept on the customer for their next orders.

Intake keeps a platform's request as it came (its shape checked); an operator's or the buyer's correction goes
through `order_invoice_profile_update`, which also checks what issuing needs (a taxpayer id with its check
character, a special invoice's registered address, phone, bank and account) and refuses, naming each field,
before anything changes. Invoicing reads the order's columns and corrects them only through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record, model_snapshot
from oms.core.actors import Actor
from oms.core.errors import Conflict, FieldError, ValidationFailed
from oms.orders import actions
from oms.orders.domain.fields import FieldReader
from oms.orders.domain.intake import Invoice, invoice_profile_errors, invoice_read
from oms.orders.domain.status import Status
from oms.orders.lock_objects import order_lock
from oms.orders.models import INVOICE_FIELDS, Customer, CustomerInvoiceProfile, Order
from oms.orders.services.timeline import order_event_record

PROFILE_COLUMNS = ("kind", "invoice_type", "title", "tax_id", "email", "mobile", "address", "phone", "bank", "account")


def invoice_columns_set(order: Order, invoice: Invoice) -> list[str]:
    """Put ``invoice`` on the order's invoice columns (unsaved); returns the columns."""
    order.invoice_kind, order.invoice_type, order.invoice_title = invoice.kind, invoice.type, invoice.title
    order.invoice_tax_id, order.invoice_email, order.invoice_mobile = invoice.tax_id, invoice.email, invoice.mobile
    order.invoice_address, order.invoice_phone = invoice.address, invoice.phone
    order.invoice_bank, order.invoice_account = invoice.bank, invoice.account
    return list(INVOICE_FIELDS)


def order_invoice(order: Order) -> Invoice:
    """The order's invoice request as the domain's value."""
    return Invoice(
        kind=order.invoice_kind,
        title=order.invoice_title,
        tax_id=order.invoice_tax_id,
        email=order.invoice_email,
        type=order.invoice_type,
        mobile=order.invoice_mobile,
        address=order.invoice_address,
        phone=order.invoice_phone,
        bank=order.invoice_bank,
        account=order.invoice_account,
    )


def invoice_parse_for_issue(data: Mapping[str, Any]) -> Invoice:
    """Read and check an invoice request as issuing needs it; 422 naming every bad field."""
    reader = FieldReader()
    parsed = invoice_read(reader, data)
    errors = [*reader.errors, *invoice_profile_errors(parsed)]
    if parsed.kind == "none" and not reader.errors:
        errors.append(FieldError("invoice.kind", "Choose personal or company to ask for an invoice.", "required"))
    if errors:
        unique = list({(e.field, e.code): e for e in errors}.values())
        raise ValidationFailed(f"{len(unique)} field(s) are invalid.", details=unique)
    return parsed


@transaction.atomic(durable=True)
def order_invoice_profile_update(
    *, order: Order, actor: Actor, data: Mapping[str, Any], save_to_customer: bool = False
) -> Order:
    """Correct or fill the order's invoice request (checked as issuing needs it); optionally keep it on the
    customer for later orders. Refused on an invalid order. A change of what an issued invoice states is a
    correction invoicing reverses and re-issues (it asks through here first)."""
    parsed = invoice_parse_for_issue(data)
    locked = order_lock(pk=order.pk)
    if locked.status == Status.INVALID.value:
        raise Conflict(f"Order {locked.number} is invalid; it is not invoiced.", code="order_final")
    before = model_snapshot(locked, list(INVOICE_FIELDS))
    invoice_columns_set(locked, parsed)
    after = model_snapshot(locked, list(INVOICE_FIELDS))
    if after != before:
        locked.updated_at = timezone.now()
        locked.save(update_fields=[*INVOICE_FIELDS, "updated_at"])
        changed = {k: after[k] for k in INVOICE_FIELDS if after[k] != before[k]}
        order_event_record(order=locked, kind="invoice_profile_changed", actor=actor, data=changed)
        audit_record(actor=actor, action=actions.ORDER_INVOICE_PROFILE, obj=locked, before=before, after=after)
    if save_to_customer and locked.customer_id is not None:
        _customer_profile_write(customer_id=locked.customer_id, invoice=parsed, actor=actor)
    return locked


def _customer_profile_write(*, customer_id: int, invoice: Invoice, actor: Actor) -> CustomerInvoiceProfile:
    values = dict(zip(PROFILE_COLUMNS, _profile_values(invoice), strict=True))
    profile = CustomerInvoiceProfile.objects.select_for_update().filter(customer_id=customer_id).first()
    before = model_snapshot(profile, list(PROFILE_COLUMNS)) if profile else None
    if profile is None:
        profile = CustomerInvoiceProfile(customer_id=customer_id)
    for key, value in values.items():
        setattr(profile, key, value)
    profile.updated_at = timezone.now()
    profile.save()
    audit_record(actor=actor, action=actions.CUSTOMER_INVOICE_PROFILE, obj=profile, before=before, after=values)
    return profile


def _profile_values(invoice: Invoice) -> tuple[str, ...]:
    return (
        invoice.kind,
        invoice.type,
        invoice.title,
        invoice.tax_id,
        invoice.email,
        invoice.mobile,
        invoice.address,
        invoice.phone,
        invoice.bank,
        invoice.account,
    )


@transaction.atomic(durable=True)
def customer_invoice_profile_save(
    *, customer: Customer, actor: Actor, data: Mapping[str, Any]
) -> CustomerInvoiceProfile:
    """Keep the customer's invoice details for their next orders (checked as issuing needs them)."""
    parsed = invoice_parse_for_issue(data)
    return _customer_profile_write(customer_id=customer.pk, invoice=parsed, actor=actor)


def customer_invoice_profile_data(profile: CustomerInvoiceProfile) -> dict[str, str]:
    """A kept profile as the request mapping `order_invoice_profile_update` takes (to apply it to an order)."""
    return {
        "kind": profile.kind,
        "type": profile.invoice_type,
        "title": profile.title,
        "tax_id": profile.tax_id,
        "email": profile.email,
        "mobile": profile.mobile,
        "address": profile.address,
        "phone": profile.phone,
        "bank": profile.bank,
        "account": profile.account,
    }
