"""Fulfilment (履约): couriers and their rates, stockouts (缺货), allocation decisions (分仓/快递), warehouse
transfers (转仓), shipments sent to the warehouse system (WMS) and the callbacks it sends back.

Orders, lines and rules are referenced by "app.Model" strings: ``orders.models`` imports ``Courier`` from
here, so importing it back would be circular.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import code_validator
from oms.inventory.models import validate_province_codes


class Courier(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    # Empty coverage means nationwide.
    coverage_provinces = models.JSONField(
        _("covered provinces"), default=list, blank=True, validators=[validate_province_codes]
    )
    supports_cod = models.BooleanField(_("supports cash on delivery"), default=False)
    max_weight_g = models.PositiveIntegerField(_("max parcel weight (g)"), default=50_000)
    # Words in a buyer's or seller's remark that ask for this courier ("发顺丰", "SF").
    remark_keywords = models.JSONField(_("remark keywords"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CourierRate(models.Model):
    """The cost table: what a parcel costs with a courier, from a warehouse (blank: any) to a province (blank:
    any). The most specific row applies: (warehouse, province), (warehouse, any), (any, province), (any, any).
    Cost = first-weight price + each started kilogram above the first weight × the extra price."""

    courier = models.ForeignKey(Courier, verbose_name=_("courier"), on_delete=models.CASCADE, related_name="rates")
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("from warehouse"), null=True, blank=True, on_delete=models.CASCADE
    )
    province = models.CharField(_("to province (adcode)"), max_length=6, blank=True)
    first_weight_g = models.PositiveIntegerField(_("first weight (g)"), default=1000)
    first_minor = models.BigIntegerField(_("first-weight price (分)"))
    extra_per_kg_minor = models.BigIntegerField(_("price per extra kg (分)"), default=0)

    class Meta:
        verbose_name = _("courier rate")
        verbose_name_plural = _("courier rates")
        ordering = ["courier", "warehouse", "province"]
        constraints = [
            models.UniqueConstraint(fields=["courier", "warehouse", "province"], name="courier_rate_unique"),
            models.CheckConstraint(
                condition=Q(first_minor__gte=0, extra_per_kg_minor__gte=0), name="courier_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier_id} {self.warehouse_id or '*'}→{self.province or '*'}"


class StockoutState(models.TextChoices):
    OPEN = "open", _("Open 缺货中")
    RESOLVED = "resolved", _("Resolved 已补货")
    CANCELLED = "cancelled", _("Cancelled 已取消")


class Stockout(models.Model):
    """A line that could not be fully reserved in its warehouse (缺货). ``quantity`` is the line units still
    short. Resolved when stock arrives (re-reserved first come first served), cancelled when the order is
    cancelled, split or transferred (and then judged again on the result)."""

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="+")
    line = models.ForeignKey("orders.OrderLine", verbose_name=_("line"), on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity short"))
    state = models.CharField(_("state"), max_length=10, choices=StockoutState.choices, default=StockoutState.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("stockout")
        verbose_name_plural = _("stockouts")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["line"], condition=Q(state="open"), name="stockout_open_once_per_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="stockout_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["state", "sku", "created_at"], name="stockout_queue"),
            models.Index(fields=["order", "state"], name="stockout_order_state"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.sku_id} × {self.quantity}"


class DecisionKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse 分仓")
    COURIER = "courier", _("Courier 快递")
    TRANSFER = "transfer", _("Transfer 转仓")


class AllocationDecision(models.Model):
    """Why an order went to a warehouse or courier: the rule (or strategy) that decided, and the plan."""

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=DecisionKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("warehouse"), null=True, blank=True, on_delete=models.PROTECT
    )
    courier = models.ForeignKey(
        Courier, verbose_name=_("courier"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(
        "review.Rule", verbose_name=_("rule"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_code = models.CharField(_("rule code"), max_length=32, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    plan = models.JSONField(_("plan"), null=True, blank=True)
    cost_minor = models.BigIntegerField(_("estimated cost (分)"), null=True, blank=True)
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("allocation decision")
        verbose_name_plural = _("allocation decisions")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "kind"], name="decision_order_kind")]
        permissions = [
            ("allocate", _("Allocate orders to warehouses and run the fulfilment pipeline")),
            ("transfer_warehouse", _("Transfer orders to another warehouse (转仓)")),
            ("assign_courier", _("Assign or change couriers")),
            ("dispatch_order", _("Send orders to the warehouse system")),
            ("ship_by_hand", _("Mark orders shipped with tracking numbers by hand (no WMS)")),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}: {self.outcome}"


class WarehouseTransfer(models.Model):
    """One change of an order's shipping warehouse (转仓, O5), with both subsidiaries as they were, so cost
    accounting can follow the order from the first warehouse to the final one."""

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="+")
    from_warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    from_subsidiary = models.ForeignKey(
        "inventory.Subsidiary", verbose_name=_("from subsidiary"), on_delete=models.PROTECT, related_name="+"
    )
    to_subsidiary = models.ForeignKey(
        "inventory.Subsidiary", verbose_name=_("to subsidiary"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    units_moved = models.PositiveIntegerField(_("units moved"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("warehouse transfer 转仓")
        verbose_name_plural = _("warehouse transfers 转仓")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="transfer_order")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_warehouse_id}→{self.to_warehouse_id}"


class ShipmentState(models.TextChoices):
    SENT = "sent", _("Sent to WMS 已下发")
    ACCEPTED = "accepted", _("Accepted by WMS 仓库已接单")
    PARTIAL = "partial", _("Partially shipped 部分发货")
    SHIPPED = "shipped", _("Shipped 已发货")
    SIGNED = "signed", _("Signed 已签收")
    REJECTED = "rejected", _("Rejected 已拒收")
    CANCELLED = "cancelled", _("Cancelled 已撤回")


ACTIVE_SHIPMENT_STATES = ("sent", "accepted", "partial", "shipped", "signed", "rejected")


class Shipment(models.Model):
    """The dispatch document (发货单) sent to a warehouse's WMS, and what became of it. ``subsidiary`` is the
    shipping warehouse's subsidiary when the document was made: the figure cost accounting books against."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    subsidiary = models.ForeignKey(
        "inventory.Subsidiary", verbose_name=_("subsidiary"), on_delete=models.PROTECT, related_name="+"
    )
    courier = models.ForeignKey(Courier, verbose_name=_("courier"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=ShipmentState.choices, default=ShipmentState.SENT)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    weight_g = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    package_count = models.PositiveIntegerField(_("packages"), default=1)
    document = models.JSONField(_("dispatch document"), default=dict)
    # Shipped by hand (手工发货): made when an operator entered the tracking numbers, never sent to a WMS.
    by_hand = models.BooleanField(_("shipped by hand"), default=False)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("signed/rejected at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=~Q(state="cancelled"), name="shipment_one_active_per_order"
            )
        ]
        indexes = [models.Index(fields=["state", "-created_at"], name="shipment_state")]

    def __str__(self) -> str:
        return self.number


class Parcel(models.Model):
    """One parcel (包裹) the WMS shipped against a shipment, under its own tracking number: the lines and units
    in it (``ParcelLine``). A shipment leaves in one parcel or several; each took exactly its units off the
    shelf and was written back to the platform under every platform order id of the order. A parcel is
    settled once: signed for or rejected, never both."""

    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), on_delete=models.PROTECT, related_name="parcels")
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    weight_g = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    package_count = models.PositiveIntegerField(_("packages"), default=1)
    units = models.PositiveIntegerField(_("units"), default=0)
    shipped_at = models.DateTimeField(_("shipped at"), default=timezone.now)
    # The recipient signed for this parcel (a signed callback naming its tracking number, or the whole order).
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # The recipient refused it (拒收): the goods come back and after-sales refunds them.
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejected_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        ordering = ["shipped_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "tracking_number"], name="parcel_tracking_once_per_shipment"),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(rejected_at__isnull=True), name="parcel_signed_or_rejected"
            ),
        ]
        indexes = [models.Index(fields=["order", "shipped_at"], name="parcel_order")]

    def __str__(self) -> str:
        return self.tracking_number


class ParcelLine(models.Model):
    """Units of one order line in a parcel."""

    parcel = models.ForeignKey(Parcel, verbose_name=_("parcel"), on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("orders.OrderLine", verbose_name=_("line"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("parcel line")
        verbose_name_plural = _("parcel lines")
        ordering = ["parcel", "line"]
        constraints = [
            models.UniqueConstraint(fields=["parcel", "line"], name="parcel_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="parcel_line_quantity_positive"),
        ]
        indexes = [models.Index(fields=["line"], name="parcel_line_line")]

    def __str__(self) -> str:
        return f"{self.parcel_id}: {self.line_id} × {self.quantity}"


class WmsLink(models.Model):
    """A warehouse's WMS: the secret its callbacks are signed with (HMAC-SHA256, like our webhooks). Dispatch
    documents go out through the outbox on topic ``wms.dispatch.<warehouse code>``."""

    warehouse = models.OneToOneField(
        "inventory.Warehouse", verbose_name=_("warehouse"), on_delete=models.CASCADE, related_name="+"
    )
    callback_secret = models.CharField(
        _("callback signing secret"), max_length=200, help_text=_("Shared with the WMS to sign its callbacks.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("WMS link")
        verbose_name_plural = _("WMS links")

    def __str__(self) -> str:
        return f"WMS {self.warehouse_id}"


class WmsCallback(models.Model):
    """Every WMS callback taken, once per (warehouse, event id): a repeat gets the first answer back."""

    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    event_id = models.CharField(_("event id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10)
    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=16)
    body = models.JSONField(_("body"), default=dict)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("WMS callback")
        verbose_name_plural = _("WMS callbacks")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "event_id"], name="wms_callback_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"
