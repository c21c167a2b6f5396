"""Reading typed values out of untrusted JSON (or spreadsheet cells), one error per bad field.

Pure: the intake, payment callbacks and remark edits all read their input through `FieldReader`,
so every field problem is reported the same way, with its path, and never as an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from oms.core.domain.limits import MAX_AMOUNT_MINOR
from oms.core.domain.money import MoneyError, format_minor, parse_minor
from oms.core.errors import FieldError

# Mainland mobile numbers, optionally +86, optionally with a platform privacy extension
# (虚拟号 "13800138000-1234"), or masked by the platform ("138****1234"); landlines 0xx(x)-xxxxxxx(x).
PHONE_RE = re.compile(r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}(?:-\d{1,6})?|1[3-9]\d\*{4}\d{4}|0\d{2,3}-?\d{7,8})$", re.ASCII)
POSTCODE_RE = re.compile(r"^[0-9]{6}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TAX_ID_RE = re.compile(r"^[0-9A-Z]{15,20}$")
# Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (a lone surrogate from a JSON "\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Times outside this range cannot be stored (PostgreSQL offsets stop at ±15:59, years at 1 and 9999).
_EARLIEST, _LATEST = datetime(1970, 1, 2, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
_MAX_OFFSET = timedelta(hours=14)


class FieldReader:
    """Reads typed values out of untrusted JSON, recording an error per bad field."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def err(self, field: str, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(field, message, code))

    def text(
        self, data: Mapping[str, Any], key: str, path: str, *, max_len: int, required: bool = False, default: str = ""
    ) -> str:
        value = data.get(key)
        field = f"{path}.{key}" if path else key
        if value is None or value == "":
            if required:
                self.err(field, "This field is required.", "required")
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.err(field, "Expected text.", "type")
            return default
        value = value.strip()
        if _UNSTORABLE.search(value):
            self.err(field, "Contains a NUL byte or a lone UTF-16 surrogate, which cannot be stored.", "bad_character")
            return default
        if required and not value:
            self.err(field, "This field is required.", "required")
        if len(value) > max_len:
            self.err(field, f"At most {max_len} characters (got {len(value)}).", "too_long")
            return value[:max_len]
        return value

    def flag(self, data: Mapping[str, Any], key: str, path: str) -> bool:
        value = data.get(key, False)
        if value in (None, ""):
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "y", "是"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "n", "否"}:
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        self.err(f"{path}.{key}" if path else key, "Expected true or false.", "type")
        return False

    def money(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        currency: str,
        *,
        required: bool = False,
        limit: int = MAX_AMOUNT_MINOR,
    ) -> int:
        value = data.get(key)
        field = f"{path}.{key}" if path else key
        if value is None or value == "":
            if required:
                self.err(field, "This field is required.", "required")
            return 0
        try:
            minor = parse_minor(value, currency, field=field)
        except MoneyError as exc:
            self.err(field, exc.message, exc.code)
            return 0
        if minor > limit:
            self.err(field, f"At most {format_minor(limit, currency)} here.", "too_large")
            return 0
        return minor

    def optional_money(self, data: Mapping[str, Any], key: str, path: str, currency: str) -> int | None:
        if data.get(key) in (None, ""):
            return None
        return self.money(data, key, path, currency)

    def when(self, data: Mapping[str, Any], key: str, path: str) -> datetime | None:
        value = data.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value
        field = f"{path}.{key}" if path else key
        if not isinstance(value, str):
            self.err(field, "Expected an ISO 8601 time such as 2026-01-31T12:00:00+08:00.", "type")
            return None
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            self.err(field, f"{value!r} is not an ISO 8601 time such as 2026-01-31T12:00:00+08:00.", "bad_datetime")
            return None
        return self._in_range(when, field)

    def _in_range(self, when: datetime, field: str) -> datetime | None:
        """The time as given, if it can be stored: a real-world UTC offset (at most ±14:00) and a year
        between 1970 and 9999. Naive times are left for the service to place."""
        offset = when.utcoffset()
        if offset is None:
            return when
        if abs(offset) > _MAX_OFFSET:
            self.err(field, "The UTC offset must lie between -14:00 and +14:00.", "out_of_range")
            return None
        if not _EARLIEST <= when < _LATEST:
            self.err(field, "The time must lie between 1970 and 9999.", "out_of_range")
            return None
        return when

    def mapping(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Mapping[str, Any]:
        value = data.get(key)
        field = f"{path}.{key}" if path else key
        if value is None:
            if required:
                self.err(field, "This field is required.", "required")
            return {}
        if not isinstance(value, Mapping):
            self.err(field, "Expected an object.", "type")
            return {}
        return value

    def phone(self, data: Mapping[str, Any], key: str, path: str, *, required: bool) -> str:
        value = self.text(data, key, path, max_len=32, required=required)
        compact = value.replace(" ", "")
        if compact and not PHONE_RE.match(compact):
            self.err(f"{path}.{key}", f"{value!r} is not a mainland mobile or landline number.", "bad_phone")
        return compact
