from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import code_validator
from oms.core.domain.regions import province_lookup


class Subsidiary(models.Model):
    """A legal entity (分公司). Each warehouse belongs to one, which decides cost accounting (O5)."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("subsidiary")
        verbose_name_plural = _("subsidiaries")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def validate_province_codes(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Coverage is a list of province codes or names."))
    unknown = [v for v in value if province_lookup(v) is None]
    if unknown:
        raise ValidationError(_("Unknown provinces: %(names)s") % {"names": ", ".join(unknown)})


def validate_city_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError(_("Cities are a list of city names."))


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    subsidiary = models.ForeignKey(
        Subsidiary, verbose_name=_("subsidiary"), on_delete=models.PROTECT, related_name="warehouses"
    )
    province = models.CharField(_("province (adcode)"), max_length=6, help_text=_("Where the warehouse stands."))
    city = models.CharField(_("city"), max_length=64, blank=True)
    # Empty coverage means the warehouse ships nationwide.
    coverage_provinces = models.JSONField(
        _("covered provinces"), default=list, blank=True, validators=[validate_province_codes]
    )
    coverage_cities = models.JSONField(_("covered cities"), default=list, blank=True, validators=[validate_city_list])
    priority = models.PositiveIntegerField(_("priority"), default=100, help_text=_("Lower is preferred."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        province = province_lookup(self.province)
        if province is None:
            raise ValidationError({"province": _("Unknown province %(value)s.") % {"value": self.province}})
        self.province = province.adcode
        if isinstance(self.coverage_provinces, list):
            self.coverage_provinces = [
                p.adcode for p in (province_lookup(v) for v in self.coverage_provinces) if p is not None
            ]

    def covers(self, province_text: str) -> bool:
        if not self.coverage_provinces:
            return True
        province = province_lookup(province_text)
        return province is not None and province.adcode in self.coverage_provinces


class StockItem(models.Model):
    """Physical stock of one SKU in one warehouse: counters kept equal to the ledger (StockMove, Reservation).

    ``on_hand`` are sellable units on the shelf (defective ones are counted apart in ``defective``);
    ``reserved`` are on-hand units promised by active warehouse-level reservations, of which
    ``reserved_transfer`` leave by transfer (调拨) and so no longer feed channel quotas;
    ``in_transit`` are units on their way here (调拨 or 退仓 shipped out, not yet received).
    """

    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    on_hand = models.BigIntegerField(_("on hand"), default=0)
    reserved = models.BigIntegerField(_("reserved"), default=0)
    reserved_transfer = models.BigIntegerField(_("reserved for transfer"), default=0)
    defective = models.BigIntegerField(_("defective"), default=0)
    in_transit = models.BigIntegerField(_("in transit"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stockitem_sku_warehouse_unique"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stockitem_on_hand_nonneg"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stockitem_reserved_nonneg"),
            models.CheckConstraint(
                condition=models.Q(reserved__lte=models.F("on_hand")), name="stockitem_reserved_le_on_hand"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved_transfer__gte=0, reserved_transfer__lte=models.F("reserved")),
                name="stockitem_reserved_transfer_in_reserved",
            ),
            models.CheckConstraint(condition=models.Q(defective__gte=0), name="stockitem_defective_nonneg"),
            models.CheckConstraint(condition=models.Q(in_transit__gte=0), name="stockitem_in_transit_nonneg"),
        ]
        permissions = [
            ("view_stock", "Can view stock, reservations and the stock ledger"),
            ("receive_stock", "Can receive stock (入库)"),
            ("adjust_stock", "Can count and adjust stock (盘点) and mark defective goods"),
            ("transfer_stock", "Can create and process transfers (调拨)"),
            ("return_stock", "Can create and process returns to warehouse (退仓)"),
            ("verify_stock", "Can verify stock counters against the ledger"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.warehouse_id}"

    @property
    def sellable(self) -> int:
        return self.on_hand - self.reserved


class Batch(models.Model):
    """A lot (批次) of one SKU in one warehouse. Sellable units leave first-expiry-first-out, then first-in."""

    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    batch_no = models.CharField(_("batch number"), max_length=64)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    on_hand = models.BigIntegerField(_("on hand"), default=0)
    defective = models.BigIntegerField(_("defective"), default=0)
    received_at = models.DateTimeField(_("first received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse", "batch_no"], name="batch_unique"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="batch_on_hand_nonneg"),
            models.CheckConstraint(condition=models.Q(defective__gte=0), name="batch_defective_nonneg"),
        ]

    def __str__(self) -> str:
        return self.batch_no


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt 入库")
    ADJUSTMENT = "adjustment", _("Stock count 盘点")
    DEFECTIVE = "defective", _("Defective marking 次品")
    TRANSFER_OUT = "transfer_out", _("Transfer shipped out 调拨出库")
    TRANSFER_IN = "transfer_in", _("Transfer received 调拨入库")
    RETURN_OUT = "return_out", _("Return shipped out 退仓出库")
    RETURN_IN = "return_in", _("Return received 退仓入库")
    SHIPMENT = "shipment", _("Shipment 发货")


class StockMove(models.Model):
    """The physical stock ledger: append-only; every StockItem/Batch counter is the sum of its deltas."""

    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        Batch, verbose_name=_("batch"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MoveKind.choices)
    delta_on_hand = models.BigIntegerField(_("on hand change"), default=0)
    delta_defective = models.BigIntegerField(_("defective change"), default=0)
    delta_in_transit = models.BigIntegerField(_("in transit change"), default=0)
    ref_type = models.CharField(_("reference type"), max_length=32)
    ref_id = models.BigIntegerField(_("reference id"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        indexes = [
            models.Index(fields=["sku", "warehouse", "id"], name="stockmove_item"),
            models.Index(fields=["ref_type", "ref_id"], name="stockmove_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sku_id}@{self.warehouse_id}"


class ReservationScope(models.TextChoices):
    CHANNEL = "channel", _("Channel")
    WAREHOUSE = "warehouse", _("Warehouse")


class ReservationKind(models.TextChoices):
    SALES = "sales", _("Sales reservation 销售预占")
    RETURN = "return", _("Return-to-warehouse reservation 退仓预占")
    TRANSFER = "transfer", _("Transfer reservation 调拨预占")


class ReservationState(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONSUMED = "consumed", _("Consumed")
    RELEASED = "released", _("Released")


class Reservation(models.Model):
    """The reservation ledger: one row per (reference line, scope, kind, SKU). Counters (StockItem.reserved,
    ChannelStock.sales_reserved/return_reserved) always equal the sum of the active rows."""

    ref_type = models.CharField(_("reference type"), max_length=32)
    ref_id = models.BigIntegerField(_("reference id"))
    scope = models.CharField(_("scope"), max_length=9, choices=ReservationScope.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=ReservationKind.choices)
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        "channels.Channel", verbose_name=_("channel"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.BigIntegerField(_("quantity"))
    state = models.CharField(_("state"), max_length=8, choices=ReservationState.choices, default="active")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="reservation_quantity_positive"),
            models.CheckConstraint(
                condition=(
                    models.Q(scope="channel", channel__isnull=False, warehouse__isnull=True)
                    | models.Q(scope="warehouse", warehouse__isnull=False, channel__isnull=True)
                ),
                name="reservation_scope_target",
            ),
            models.UniqueConstraint(
                fields=["ref_type", "ref_id", "kind", "sku"],
                condition=models.Q(state="active", scope="channel"),
                name="reservation_active_channel_unique",
            ),
            models.UniqueConstraint(
                fields=["ref_type", "ref_id", "kind", "sku", "warehouse"],
                condition=models.Q(state="active", scope="warehouse"),
                name="reservation_active_warehouse_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["ref_type", "ref_id"], name="reservation_ref"),
            models.Index(fields=["sku", "state"], name="reservation_sku_state"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.kind} {self.ref_type}:{self.ref_id} sku {self.sku_id} × {self.quantity}"


class ReservationRequest(models.Model):
    """A channel sales reservation waiting its turn on a hot SKU (`oms.inventory.services.hot_reserve`).

    The caller commits its request, then one caller at a time per (channel, SKU) grants every request waiting
    there — first come first served, one lock of the channel-stock row and one commit for the whole batch —
    and stamps each with what it was granted; every caller reads its own row back and deletes it. Nothing here
    counts towards stock: the grants are ordinary `Reservation` rows. Plain ids (no foreign keys) and, on
    PostgreSQL, an unlogged table: a request is a message between two sessions, not a record — after a crash
    the callers that were waiting have lost their connections and ask again."""

    caller = models.BigIntegerField(_("caller"))  # a random number per call: how the caller finds its rows
    channel_id = models.BigIntegerField(_("channel"))
    sku_id = models.BigIntegerField(_("SKU"))
    ref_type = models.CharField(_("reference type"), max_length=32)
    ref_id = models.BigIntegerField(_("reference id"))
    quantity = models.BigIntegerField(_("quantity"))
    # NULL while waiting; then the units granted, or -1 when the line must go the general way (it holds a
    # reservation already, or the channel has no stock row for the SKU).
    granted = models.BigIntegerField(_("granted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reservation request")
        verbose_name_plural = _("reservation requests")
        indexes = [
            models.Index(fields=["channel_id", "sku_id", "id"], name="reservation_request_queue"),
            models.Index(fields=["caller"], name="reservation_request_caller"),
        ]

    def __str__(self) -> str:
        return f"request {self.ref_type}:{self.ref_id} channel {self.channel_id} sku {self.sku_id} × {self.quantity}"


class DocumentType(models.TextChoices):
    RECEIPT = "receipt", _("Receipt 入库单")
    ADJUSTMENT = "adjustment", _("Stock count 盘点单")
    DEFECTIVE = "defective", _("Defective marking 次品标记")
    TRANSFER = "transfer", _("Transfer 调拨单")
    RETURN = "return", _("Return to warehouse 退仓单")


class DocumentStatus(models.TextChoices):
    DONE = "done", _("Done")
    RESERVED = "reserved", _("Reserved, awaiting shipment")
    SHIPPED = "shipped", _("Shipped, in transit")
    PARTIAL = "partial", _("Partly received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class StockDocument(models.Model):
    """A stock document: every physical change is made by one. ``warehouse`` is where stock is received,
    counted or marked, or where a transfer/return leaves from; ``dest_warehouse`` where it goes; ``channel``
    the channel (store, platform warehouse) a return to warehouse (退仓) comes from."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    doc_type = models.CharField(_("type"), max_length=10, choices=DocumentType.choices)
    status = models.CharField(_("status"), max_length=9, choices=DocumentStatus.choices)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    dest_warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("destination warehouse"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.ForeignKey(
        "channels.Channel", verbose_name=_("channel"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.Operator", verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock document")
        verbose_name_plural = _("stock documents")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.number


class StockDocumentLine(models.Model):
    """One SKU on a document. For a stock count ``quantity`` is the counted figure and ``delta`` the change it
    made; for transfers and returns ``received_quantity`` grows as units arrive."""

    document = models.ForeignKey(
        StockDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="lines"
    )
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("quantity"))
    delta = models.BigIntegerField(_("change"), default=0)
    received_quantity = models.BigIntegerField(_("received"), default=0)
    is_defective = models.BooleanField(_("defective"), default=False)
    batch_no = models.CharField(_("batch number"), max_length=64, blank=True)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock document line")
        verbose_name_plural = _("stock document lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="docline_quantity_nonneg"),
            models.CheckConstraint(
                condition=models.Q(received_quantity__gte=0, received_quantity__lte=models.F("quantity")),
                name="docline_received_le_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}:{self.sku_id}×{self.quantity}"
