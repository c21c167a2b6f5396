"""Fulfilment settings (``OMS_FULFILMENT`` in the settings module), typed for the code that reads them."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _get(name: str) -> Any:
    return settings.OMS_FULFILMENT[name]


def review_buffer_minutes() -> int:
    return int(_get("REVIEW_BUFFER_MINUTES"))


def warehouse_tie_breaks() -> tuple[str, ...]:
    return tuple(str(s) for s in _get("WAREHOUSE_TIE_BREAKS"))


def auto_dispatch() -> bool:
    return bool(_get("AUTO_DISPATCH"))


def batch_size() -> int:
    return int(_get("BATCH_SIZE"))


def wms_callback_tolerance_s() -> int:
    return int(_get("WMS_CALLBACK_TOLERANCE_S"))
