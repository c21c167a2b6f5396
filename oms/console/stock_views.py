"""Stock in the console: SKU stock (per warehouse, batches, per channel, ledger), stock documents with their
actions, and allocation rules with a preview of the quotas before saving.

Views parse the request, call one selector or service, and render; errors from services become messages
on the page, field by field.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.catalog.models import Sku
from oms.catalog.services import sku_hot_set
from oms.channels.models import AllocationRule, Channel
from oms.channels.selectors import (
    allocation_rule_choices,
    allocation_rule_get,
    allocation_rule_list,
    allocation_rule_preview,
    stock_push_status_list,
)
from oms.channels.services import rules
from oms.channels.services.push import stock_push_all
from oms.console.forms import allocation_rule_from_post, int_field
from oms.console.permissions import console_view
from oms.core.errors import ApplicationError, FieldError, ValidationFailed
from oms.inventory import selectors
from oms.inventory.models import DocumentStatus, DocumentType, Warehouse
from oms.inventory.services import documents as docs


def _show_error(request: HttpRequest, exc: ApplicationError) -> None:
    messages.error(request, exc.message)
    for d in exc.details:
        messages.error(request, f"{d.field}: {d.message}")


@console_view("inventory.view_stock")
def stock_index(request: HttpRequest) -> HttpResponse:
    """Find a SKU: 50 a page, totals over all warehouses or one, with what is available (on hand − reserved)."""
    q = request.GET.get("q", "").strip()[:64]
    warehouse = request.GET.get("warehouse", "").strip()[:32]
    page = Paginator(selectors.sku_stock_skus(query=q, warehouse_code=warehouse), 50).get_page(request.GET.get("page"))
    pushes = stock_push_status_list() if request.user.has_perm("channels.view_channel_stock") else []
    return render(
        request,
        "console/stock/index.html",
        {
            "rows": selectors.sku_stock_totals(skus=list(page.object_list), warehouse_code=warehouse),
            "page": page,
            "q": q,
            "warehouse": warehouse,
            "warehouses": Warehouse.objects.filter(is_active=True).order_by("code"),
            "pushes": pushes,
            "can_push": request.user.has_perm("channels.push_channel_stock"),
        },
    )


@console_view("inventory.view_stock")
def sku_stock(request: HttpRequest, code: str) -> HttpResponse:
    try:
        stock = selectors.sku_stock_get(sku_code=code)
    except ApplicationError as exc:
        _show_error(request, exc)
        return redirect("console:stock")
    can_set_hot = request.user.has_perm("catalog.designate_hot_sku")
    return render(request, "console/stock/sku.html", {"s": stock, "can_set_hot": can_set_hot})


@require_POST
@console_view("catalog.designate_hot_sku")
def sku_hot_action(request: HttpRequest, code: str) -> HttpResponse:
    """Designate or undesignate a hot SKU (爆款). The form names the state wanted rather than toggling, so a
    repeated or stale submission cannot flip the flag back."""
    is_hot = request.POST.get("is_hot") == "1"
    try:
        sku = sku_hot_set(code=code, is_hot=is_hot, actor=request.user)
    except ApplicationError as exc:
        _show_error(request, exc)
        return redirect("console:stock")
    if sku.is_hot:
        messages.success(
            request, _("%(code)s is a hot SKU (爆款) now; this takes effect within 10 seconds.") % {"code": sku.code}
        )
    else:
        messages.success(
            request, _("%(code)s is no longer a hot SKU; this takes effect within 10 seconds.") % {"code": sku.code}
        )
    return redirect("console:stock_sku", code=sku.code)


@console_view("inventory.view_stock")
def document_list(request: HttpRequest) -> HttpResponse:
    doc_type = request.GET.get("type", "")
    status = request.GET.get("status", "")
    documents = selectors.stock_document_list(
        doc_type=doc_type if doc_type in DocumentType.values else None,
        status=status if status in DocumentStatus.values else None,
    )[:100]
    return render(
        request,
        "console/stock/documents.html",
        {
            "documents": documents,
            "types": DocumentType.choices,
            "statuses": DocumentStatus.choices,
            "doc_type": doc_type,
            "status": status,
            "warehouses": Warehouse.objects.filter(is_active=True).order_by("code"),
            "channels": Channel.objects.filter(is_active=True).order_by("code"),
            "can_create": {
                "receipt": request.user.has_perm("inventory.receive_stock"),
                "adjustment": request.user.has_perm("inventory.adjust_stock"),
                "defective": request.user.has_perm("inventory.adjust_stock"),
                "transfer": request.user.has_perm("inventory.transfer_stock"),
                "return": request.user.has_perm("inventory.return_stock"),
            },
        },
    )


def parse_lines(text: str) -> list[docs.DocLine]:
    """Lines typed one per row as ``SKU, quantity[, batch[, expiry YYYY-MM-DD]]``, with 次品/defective as a
    last word for defective goods."""
    codes: list[str] = []
    raw: list[list[str]] = []
    errors: list[FieldError] = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.replace("，", ",").split(",") if p.strip()]
        if not parts:
            continue
        raw.append(parts)
        codes.append(parts[0])
    ids = dict(Sku.objects.filter(code__in=codes).values_list("code", "id"))
    out: list[docs.DocLine] = []
    for i, parts in enumerate(raw):
        defective = parts[-1].lower() in {"defective", "次品"}
        if defective:
            parts = parts[:-1]
        if parts[0] not in ids:
            errors.append(FieldError(f"lines[{i}].sku", _("Unknown SKU %(code)s.") % {"code": parts[0]}, "unknown"))
        try:
            quantity = int(parts[1]) if len(parts) > 1 else 0
        except ValueError:
            errors.append(FieldError(f"lines[{i}].quantity", _("Quantity must be a whole number."), "invalid"))
            quantity = 0
        expiry = None
        if len(parts) > 3:
            try:
                expiry = dt.date.fromisoformat(parts[3])
            except ValueError:
                errors.append(FieldError(f"lines[{i}].expiry_date", _("Use YYYY-MM-DD."), "invalid"))
        out.append(
            docs.DocLine(
                ids.get(parts[0], 0),
                quantity,
                batch_no=parts[2] if len(parts) > 2 else "",
                expiry_date=expiry,
                is_defective=defective,
            )
        )
    if errors:
        raise ValidationFailed(_("Some lines are invalid."), details=errors)
    return out


_CREATE_PERMS = {
    "receipt": "inventory.receive_stock",
    "adjustment": "inventory.adjust_stock",
    "defective": "inventory.adjust_stock",
    "transfer": "inventory.transfer_stock",
    "return": "inventory.return_stock",
}


@require_POST
@console_view("inventory.view_stock")
def document_create(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("type", "")
    perm = _CREATE_PERMS.get(kind)
    if perm is None or not request.user.has_perm(perm):
        messages.error(request, _("You may not create this document."))
        return redirect("console:stock_documents")
    p, user, note = request.POST, request.user, request.POST.get("note", "")[:200]
    try:
        lines = parse_lines(p.get("lines", ""))
        if kind == "receipt":
            doc = docs.stock_receipt_create(
                warehouse_id=int_field(p.get("warehouse")), lines=lines, actor=user, note=note
            )
        elif kind == "adjustment":
            doc = docs.stock_count_create(
                warehouse_id=int_field(p.get("warehouse")), lines=lines, actor=user, note=note
            )
        elif kind == "defective":
            doc = docs.stock_defective_mark(
                warehouse_id=int_field(p.get("warehouse")), lines=lines, actor=user, note=note
            )
        elif kind == "transfer":
            doc = docs.stock_transfer_create(
                source_id=int_field(p.get("warehouse")),
                dest_id=int_field(p.get("dest")),
                lines=lines,
                actor=user,
                note=note,
            )
        else:
            doc = docs.stock_return_create(
                channel_id=int_field(p.get("channel")),
                source_id=int_field(p.get("warehouse")),
                dest_id=int_field(p.get("dest")),
                lines=lines,
                actor=user,
                note=note,
            )
    except ApplicationError as exc:
        _show_error(request, exc)
        return redirect("console:stock_documents")
    messages.success(request, _("Document %(number)s saved.") % {"number": doc.number})
    return redirect("console:stock_document", pk=doc.pk)


@console_view("inventory.view_stock")
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        doc = selectors.stock_document_get(document_id=pk)
    except ApplicationError as exc:
        _show_error(request, exc)
        return redirect("console:stock_documents")
    perm = "inventory.transfer_stock" if doc.doc_type == DocumentType.TRANSFER else "inventory.return_stock"
    return render(request, "console/stock/document.html", {"doc": doc, "can_act": request.user.has_perm(perm)})


@require_POST
@console_view("inventory.view_stock")
def document_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    try:
        doc = selectors.stock_document_get(document_id=pk)
        is_transfer = doc.doc_type == DocumentType.TRANSFER
        perm = "inventory.transfer_stock" if is_transfer else "inventory.return_stock"
        if doc.doc_type not in (DocumentType.TRANSFER, DocumentType.RETURN) or not request.user.has_perm(perm):
            messages.error(request, _("You may not do this."))
            return redirect("console:stock_document", pk=pk)
        if action == "ship":
            (docs.stock_transfer_ship if is_transfer else docs.stock_return_ship)(document_id=pk, actor=request.user)
        elif action == "receive":
            received = {
                ln.pk: int_field(request.POST.get(f"line-{ln.pk}"))
                for ln in doc.lines.all()
                if request.POST.get(f"line-{ln.pk}") not in (None, "")
            }
            receive = docs.stock_transfer_receive if is_transfer else docs.stock_return_receive
            receive(document_id=pk, actor=request.user, received=received or None)
        elif action == "cancel":
            docs.stock_document_cancel(document_id=pk, actor=request.user, reason=request.POST.get("reason", ""))
        else:
            messages.error(request, _("Unknown action."))
            return redirect("console:stock_document", pk=pk)
    except ApplicationError as exc:
        _show_error(request, exc)
    else:
        messages.success(request, _("Done."))
    return redirect("console:stock_document", pk=pk)


# ------------------------------------------------------------------------------------------ allocation rules


def _save_or_preview(request: HttpRequest, rule: AllocationRule, back: str) -> HttpResponse:
    """Preview (htmx, nothing saved) or save a rule; saving re-allocates at once."""
    try:
        if request.POST.get("preview"):
            rules.allocation_rule_validate(rule=rule)
            return render(request, "console/stock/_preview.html", {"rows": allocation_rule_preview(rule=rule)})
        summary = rules.allocation_rule_apply(rule=rule, actor=request.user)
    except ApplicationError as exc:
        _show_error(request, exc)
        if getattr(request, "htmx", False) or request.POST.get("preview"):
            return render(request, "console/stock/_preview.html", {"rows": [], "errors": True})
        return redirect(back)
    messages.success(request, _("Rule saved; %(n)s channel stock row(s) re-allocated.") % {"n": summary.rows_changed})
    return redirect("console:stock_rules")


@console_view("channels.view_allocationrule")
def rule_list(request: HttpRequest) -> HttpResponse:
    rule_rows = allocation_rule_list()
    user = request.user
    return render(
        request,
        "console/stock/rules.html",
        {
            "rules": rule_rows,
            "new_rule": AllocationRule(),
            **allocation_rule_choices(),
            "can_edit": user.has_perm("channels.allocate_stock"),
            "can_change": user.has_perm("channels.allocate_stock") and user.has_perm("channels.change_allocationrule"),
            "can_delete": user.has_perm("channels.allocate_stock") and user.has_perm("channels.delete_allocationrule"),
        },
    )


@require_POST
@console_view("channels.allocate_stock")
def rule_save(request: HttpRequest) -> HttpResponse:
    """Create a rule (or preview it)."""
    return _save_or_preview(request, allocation_rule_from_post(request.POST), "console:stock_rules")


@console_view("channels.allocate_stock", "channels.change_allocationrule")
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a rule: the same form and quota preview as a new one, then save and re-allocate."""
    rule = allocation_rule_get(pk=pk)
    if rule is None:
        messages.error(request, _("No such allocation rule."))
        return redirect("console:stock_rules")
    if request.method == "POST":
        return _save_or_preview(request, allocation_rule_from_post(request.POST, rule), request.path)
    return render(request, "console/stock/rule_edit.html", {"rule": rule, **allocation_rule_choices()})


@console_view("channels.allocate_stock", "channels.delete_allocationrule")
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (with the quotas the channels would get without the rule), then delete and re-allocate."""
    rule = allocation_rule_get(pk=pk)
    if rule is None:
        messages.error(request, _("No such allocation rule."))
        return redirect("console:stock_rules")
    if request.method != "POST":
        without = AllocationRule(**{f.attname: getattr(rule, f.attname) for f in AllocationRule._meta.concrete_fields})
        without.is_active = False
        return render(
            request, "console/stock/rule_delete.html", {"rule": rule, "rows": allocation_rule_preview(rule=without)}
        )
    try:
        summary = rules.allocation_rule_remove(
            rule_id=pk, actor=request.user, reason=request.POST.get("reason", "")[:200]
        )
    except ApplicationError as exc:
        _show_error(request, exc)
        return redirect("console:stock_rules")
    messages.success(request, _("Rule deleted; %(n)s channel stock row(s) re-allocated.") % {"n": summary.rows_changed})
    return redirect("console:stock_rules")


# ------------------------------------------------------------------------------------------ platform pushes


@require_POST
@console_view("channels.push_channel_stock")
def stock_push_now(request: HttpRequest) -> HttpResponse:
    """Push changed available-to-sell figures of one online channel (or all) through the outbox now."""
    code = request.POST.get("channel", "").strip()
    try:
        results = stock_push_all(actor=request.user, channel_codes=[code] if code else None)
    except ApplicationError as exc:
        _show_error(request, exc)
        return redirect("console:stock")
    if not results:
        messages.error(request, _("No active online channel %(code)s.") % {"code": code})
    for r in results:
        if r.skipped:
            messages.error(
                request, _("%(channel)s: no webhook endpoint receives its stock pushes.") % {"channel": r.channel}
            )
        else:
            messages.success(
                request,
                _("%(channel)s: %(skus)s SKU(s) pushed in %(events)s event(s).")
                % {"channel": r.channel, "skus": r.skus, "events": len(r.event_ids)},
            )
    return redirect("console:stock")
