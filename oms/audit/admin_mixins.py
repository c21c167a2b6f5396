"""Admin screens write through the one audit writer, so configuration changes are in the log too."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest

from oms.audit.actions import ADMIN_CHANGE, ADMIN_CREATE, ADMIN_DELETE, admin_action
from oms.audit.services import audit_record, model_snapshot

M = TypeVar("M", bound=models.Model)


class AuditedModelAdmin(admin.ModelAdmin[M], Generic[M]):
    def _fields(self, obj: M) -> list[str]:
        return [f.attname for f in obj._meta.concrete_fields if not f.primary_key]

    def save_model(self, request: HttpRequest, obj: M, form: ModelForm[M], change: bool) -> None:
        with transaction.atomic():
            before: dict[str, Any] | None = None
            if change and obj.pk is not None:
                old = type(obj)._default_manager.filter(pk=obj.pk).first()
                before = model_snapshot(old, self._fields(obj)) if old is not None else None
            super().save_model(request, obj, form, change)
            after = model_snapshot(obj, self._fields(obj))
            if before is not None:
                changed = {k for k in after if before.get(k) != after[k]}
                before = {k: before[k] for k in changed}
                after = {k: after[k] for k in changed}
            action = admin_action(obj, ADMIN_CHANGE if change else ADMIN_CREATE)
            audit_record(actor=request.user, action=action, obj=obj, before=before, after=after)

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        with transaction.atomic():
            before = model_snapshot(obj, self._fields(obj))
            audit_record(actor=request.user, action=admin_action(obj, ADMIN_DELETE), obj=obj, before=before)
            super().delete_model(request, obj)
