"""Webhook endpoints and the outbox: one row per (event, endpoint), delivered at least once."""

from __future__ import annotations

import uuid

from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookEndpoint(models.Model):
    """A receiver of events. ``topics`` lists topic patterns: ``order.shipped``, ``order.*`` or ``*``."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        help_text=_("Shared with the receiver to verify the X-OMS-Signature header. Never shown again in full."),
    )
    topics = models.JSONField(_("topics"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_hint(self) -> str:
        """Enough of the secret to tell two apart, never enough to use it."""
        return f"…{self.secret[-4:]}" if len(self.secret) >= 12 else "…"


class MessageState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERING = "delivering", _("Delivering")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")


class OutboxMessage(models.Model):
    """One event for one endpoint.

    While ``delivering``, ``next_attempt_at`` is the end of the relay's lease: a relay that dies
    mid-delivery leaves the row due again once the lease runs out, so one query finds all due work.
    """

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, db_index=True)
    topic = models.CharField(_("topic"), max_length=100)
    aggregate_type = models.CharField(_("aggregate type"), max_length=64)
    aggregate_id = models.CharField(_("aggregate id"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.PROTECT, related_name="messages"
    )
    state = models.CharField(_("state"), max_length=16, choices=MessageState.choices, default=MessageState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-id"]
        permissions = [("retry_outboxmessage", _("Can retry a dead-letter outbox message"))]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "endpoint"], name="outbox_event_endpoint_unique"),
        ]
        indexes = [
            # The relay's query: due rows that are pending or whose lease has run out.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_due",
                condition=models.Q(state__in=["pending", "delivering"]),
            ),
            models.Index(fields=["state", "-id"], name="outbox_state"),
            models.Index(fields=["topic", "-id"], name="outbox_topic"),
            models.Index(fields=["aggregate_type", "aggregate_id"], name="outbox_aggregate"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id} → {self.endpoint_id}"
