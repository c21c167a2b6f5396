from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """The operation log is evidence: rows are never changed or removed."""


class OperationLogQuerySet(models.QuerySet["OperationLog"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("The operation log is append-only: rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The operation log is append-only: rows cannot be deleted.")


class OperationLog(models.Model):
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    client_address = models.CharField(_("client address"), max_length=64, blank=True)
    via = models.CharField(_("via"), max_length=16, blank=True)
    # Tamper evidence (oms.audit.domain.chain): the content's hash, written with the row; the row's place in
    # the chain (seq, the previous row's hash, its own), set when its transaction commits.
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    seq = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    row_hash = models.CharField(_("row hash"), max_length=64, blank=True)
    chained_at = models.DateTimeField(_("chained at"), null=True, blank=True)

    objects = OperationLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("operation log entry")
        verbose_name_plural = _("operation log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The operation log is append-only: rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The operation log is append-only: rows cannot be deleted.")


class ChainHead(models.Model):
    """The last link of the operation log's chain (one row, id 1): its seq and hash. Writers take its row lock
    to link their rows, so concurrent transactions chain one after the other."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("operation log chain head")

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash[:12]}"


class AuditCheck(models.Model):
    """One run of `oms audit verify` (by hand or the periodic task): what it found. The console shows the last."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    ok = models.BooleanField(_("intact"))
    rows = models.BigIntegerField(_("rows checked"), default=0)
    head_seq = models.BigIntegerField(_("chain head"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    seconds = models.FloatField(_("seconds"), default=0.0)

    class Meta:
        verbose_name = _("operation log check")
        verbose_name_plural = _("operation log checks")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'TAMPERED'}"
