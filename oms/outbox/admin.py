"""Webhook endpoints are configured in the admin (audited); the secret is write-only there."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.outbox.models import WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        min_length=16,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("At least 16 characters. Leave empty to keep the current secret."),
    )
    topics = forms.CharField(
        label=_("topics"),
        help_text=_("Comma-separated: order.shipped, order.*, or * for every event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "topics", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["topics"] = ", ".join(self.instance.topics or [])
        else:
            self.fields["secret"].required = True

    def clean_topics(self) -> list[str]:
        topics = [t.strip() for t in self.cleaned_data["topics"].split(",") if t.strip()]
        if not topics:
            raise forms.ValidationError(_("Subscribe to at least one topic."))
        return topics

    def clean_secret(self) -> str:
        value: str = self.cleaned_data.get("secret") or ""
        return value or (self.instance.secret if self.instance.pk else "")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedModelAdmin[WebhookEndpoint]):
    form = WebhookEndpointForm
    list_display = ["name", "url", "topic_list", "is_active", "secret_hint"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]

    def _fields(self, obj: WebhookEndpoint) -> list[str]:
        # The operation log must never hold the secret; its hint shows that it changed.
        return [name for name in super()._fields(obj) if name != "secret"] + ["secret_hint"]

    @admin.display(description=_("topics"))
    def topic_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.topics or [])

    def has_delete_permission(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> bool:
        # Messages keep their endpoint for the record; deactivate instead.
        return False
