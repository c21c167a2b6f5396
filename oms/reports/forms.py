"""Parsing a report's filters (console and API alike): a period of local days, channel, province, SKU,
category, currency and what to break the figures down by. Bad input is refused naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import Category, Sku
from oms.channels.models import Channel
from oms.core.domain.money import CURRENCY_EXPONENTS
from oms.core.domain.regions import province_choices
from oms.core.errors import FieldError, ValidationFailed
from oms.reports.domain.filters import BREAKDOWNS, LINE_LEVEL, ReportFilters

DEFAULT_DAYS = 30


def max_days() -> int:
    return int(getattr(settings, "OMS_REPORTS", {}).get("MAX_DAYS", 366))


class ReportFilterForm(forms.Form):
    """The ``from``/``to`` period (inclusive; 30 days to today when left out), the filters, and ``by``."""

    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    channel = forms.CharField(label=_("Channel"), required=False, max_length=32)
    province = forms.ChoiceField(label=_("Province"), required=False)
    sku = forms.CharField(label=_("SKU"), required=False, max_length=64)
    category = forms.CharField(label=_("Category"), required=False, max_length=32)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    by = forms.ChoiceField(label=_("By"), required=False, choices=[(b, b) for b in BREAKDOWNS])

    # The query-string names: "from" and "to" are keywords in Python.
    ALIASES = {"from": "date_from", "to": "date_to"}
    KNOWN = {"from", "to", "channel", "province", "sku", "category", "currency", "by"}

    def __init__(self, data: Mapping[str, Any] | None = None, *, extra_known: frozenset[str] = frozenset()) -> None:
        # A QueryDict holds lists: take each parameter's last value, as request.GET[...] does.
        raw: dict[str, Any] = data.dict() if isinstance(data, QueryDict) else dict(data or {})
        self.unknown = sorted(set(raw) - self.KNOWN - extra_known)
        super().__init__({self.ALIASES.get(k, k): v for k, v in raw.items()})
        province: Any = self.fields["province"]
        province.choices = [("", ""), *province_choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.unknown:
            self.add_error(None, _("Unknown filter %(name)s.") % {"name": name})
        today = timezone.localdate()
        day_to = data.get("date_to") or today
        day_from = data.get("date_from") or day_to - timedelta(days=DEFAULT_DAYS - 1)
        if day_from > day_to:
            self.add_error("date_from", _("The period starts after it ends."))
        elif (day_to - day_from).days + 1 > max_days():
            self.add_error("date_from", _("The period is longer than %(n)s days.") % {"n": max_days()})
        data["date_from"], data["date_to"] = day_from, day_to
        self._resolve(data, "channel", Channel.objects.all(), _("No such channel."))
        self._resolve(data, "sku", Sku.objects.all(), _("No such SKU."))
        self._resolve(data, "category", Category.objects.all(), _("No such category."))
        data["currency"] = str(data.get("currency") or settings.OMS.get("DEFAULT_CURRENCY", "CNY")).upper()
        if data["currency"] not in CURRENCY_EXPONENTS:
            self.add_error("currency", _("Unknown currency."))
        if data.get("province") and (data.get("sku") or data.get("category") or data.get("by") in LINE_LEVEL):
            self.add_error("province", _("A province cannot be combined with a SKU or category."))
        return data

    def _resolve(self, data: dict[str, Any], name: str, qs: Any, missing: Any) -> None:
        code = (data.get(name) or "").strip()
        data[f"{name}_id"] = None
        if code:
            pk = qs.filter(code=code).values_list("pk", flat=True).first()
            if pk is None:
                self.add_error(name, missing)
            data[f"{name}_id"] = pk
            data[name] = code

    def filters(self) -> ReportFilters:
        """The parsed filters; raises ValidationFailed naming every bad field (the API's and console's 4xx)."""
        if not self.is_valid():
            raise ValidationFailed(
                "The report filters are invalid.",
                details=[
                    FieldError(_FIELD_NAMES.get(field, field or "query"), str(message), "invalid")
                    for field, messages in self.errors.items()
                    for message in messages
                ],
            )
        d = self.cleaned_data
        return ReportFilters(
            day_from=d["date_from"],
            day_to=d["date_to"],
            channel=d["channel"] or "",
            channel_id=d["channel_id"],
            province=d.get("province") or "",
            sku=d["sku"] or "",
            sku_id=d["sku_id"],
            category=d["category"] or "",
            category_id=d["category_id"],
            currency=d["currency"],
            by=d.get("by") or "day",
        )


_FIELD_NAMES = {"date_from": "from", "date_to": "to", "__all__": "query"}


def report_filters_parse(params: Mapping[str, Any], *, extra_known: frozenset[str] = frozenset()) -> ReportFilters:
    return ReportFilterForm(params, extra_known=extra_known).filters()


def day_list(day_from: date, day_to: date) -> list[date]:
    return [day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1)]
