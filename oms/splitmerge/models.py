from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.orders.models import Order, OrderLine


class LineageKind(models.TextChoices):
    SPLIT = "split", _("Split 拆单")
    MERGE = "merge", _("Merge 合单")
    UNMERGE = "unmerge", _("Un-merge 取消合单")
    # After-sales orders made for an order that lives on: its exchange (换货) and reissue (补发) orders.
    EXCHANGE = "exchange", _("Exchange 换货")
    REISSUE = "reissue", _("Reissue 补发")


# The kinds whose parent is retired, replaced by its children (the after-sales kinds leave the parent living).
REPLACING_KINDS = (LineageKind.SPLIT, LineageKind.MERGE, LineageKind.UNMERGE)


class OrderLineage(models.Model):
    """Parent → child: the child was made from the parent by a split, merge or un-merge — the parent is then
    retired (closed, kept read-only with its history) — or is the parent's exchange or reissue order, made by an
    after-sales case (the parent lives on). Following these links both ways traces any order to its origin and
    to what became of it (S7)."""

    operation = models.UUIDField(_("operation"), default=uuid.uuid4, db_index=True)
    kind = models.CharField(_("kind"), max_length=8, choices=LineageKind.choices)
    parent = models.ForeignKey(Order, verbose_name=_("parent"), on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey(Order, verbose_name=_("child"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("operator"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("order lineage link")
        verbose_name_plural = _("order lineage")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["parent", "child"], name="lineage_link_once")]
        indexes = [
            models.Index(fields=["parent"], name="lineage_parent"),
            models.Index(fields=["child"], name="lineage_child"),
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} → {self.child_id} ({self.kind})"


class LineOrigin(models.Model):
    """Which parent line (and how many of its units) a child line came from: the per-line trail that
    un-merge and money tracing follow."""

    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    source_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["line", "source_line"], name="line_origin_once")]
        indexes = [models.Index(fields=["source_line"], name="line_origin_source")]

    def __str__(self) -> str:
        return f"{self.source_line_id} → {self.line_id} × {self.quantity}"
