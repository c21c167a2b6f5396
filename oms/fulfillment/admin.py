"""Couriers, their cost table and the warehouses' WMS links are configured in the admin (audited); the WMS
callback secret is write-only and kept out of the operation log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.fulfillment.models import Courier, CourierRate, WmsLink


class CourierRateInline(admin.TabularInline[CourierRate, Courier]):
    model = CourierRate
    extra = 0


@admin.register(Courier)
class CourierAdmin(AuditedModelAdmin[Courier]):
    list_display = ["code", "name", "supports_cod", "max_weight_g", "is_active"]
    list_filter = ["is_active", "supports_cod"]
    search_fields = ["code", "name"]
    inlines = [CourierRateInline]


class WmsLinkForm(forms.ModelForm[WmsLink]):
    callback_secret = forms.CharField(
        label=_("callback signing secret"),
        required=False,
        min_length=16,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("At least 16 characters. Leave empty to keep the current secret."),
    )

    class Meta:
        model = WmsLink
        fields = ["warehouse", "callback_secret", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["callback_secret"].required = True

    def clean_callback_secret(self) -> str:
        value = str(self.cleaned_data.get("callback_secret") or "")
        return value or (self.instance.callback_secret if self.instance.pk else "")


@admin.register(WmsLink)
class WmsLinkAdmin(AuditedModelAdmin[WmsLink]):
    form = WmsLinkForm
    list_display = ["warehouse", "is_active"]

    def _fields(self, obj: models.Model) -> list[str]:
        return [f for f in super()._fields(obj) if f != "callback_secret"]  # type: ignore[arg-type]
