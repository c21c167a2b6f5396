"""What every platform adapter makes of one native order: our intake payload plus what only the platform knows.

Pure: no Django. Each platform module (`taobao`, …) reads its native JSON with a `NativeReader` and returns a
`MappedOrder`, or raises `MappingError` naming the native field that is missing or wrong. The pull service
then takes the payload in through today's intake, keeps the platform's own per-line divided payment beside
ours, and turns the platform's refunds and status into refund requests, payments and cancellations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from oms.core.domain.money import MoneyError, format_minor, parse_minor

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Phase(StrEnum):
    """Where the platform says the order is, in the few steps that matter to us."""

    UNPAID = "unpaid"  # placed, not paid (or a presale deposit only)
    PAID = "paid"  # paid, waiting for the merchant to ship
    SHIPPED = "shipped"  # shipped (by us or elsewhere); buyer has not confirmed yet
    DONE = "done"  # buyer confirmed / signed: the trade succeeded
    CLOSED = "closed"  # closed unpaid, or closed by a full refund


class RefundState(StrEnum):
    OPEN = "open"  # asked for, not settled: hold the order
    SUCCESS = "success"  # the platform paid the buyer back
    CLOSED = "closed"  # withdrawn or refused: the hold can be released


@dataclass(frozen=True)
class MappedRefund:
    platform_refund_id: str
    platform_line_id: str
    amount_minor: int
    state: RefundState
    reason: str


@dataclass(frozen=True)
class LineShare:
    """The platform's own division of what the buyer paid, per line (e.g. TOP's divide_order_fee)."""

    platform_line_id: str
    paid_minor: int


@dataclass(frozen=True)
class MappedOrder:
    platform_order_id: str
    modified_at: datetime
    phase: Phase
    native_status: str
    payload: dict[str, Any]  # our intake JSON, without "channel" (the shop's channel is added when taken in)
    refunds: tuple[MappedRefund, ...] = ()
    line_shares: tuple[LineShare, ...] = ()
    # The platform's stable ids for buyer and receiver: the merge key when the address text comes masked.
    buyer_token: str = ""
    receiver_token: str = ""
    receiver_masked: bool = False
    version: str = ""  # hash of the native order: the same version pulled twice is a no-op


@dataclass
class MappingError(Exception):
    """A native order we cannot take in as it is: kept as a failed pull item with this reason."""

    code: str
    field: str
    message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)


def native_version(native: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(native, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class NativeReader:
    """Reads a platform's JSON, raising `MappingError` with the native field path on the first problem."""

    def __init__(self, data: Mapping[str, Any], path: str = "", currency: str = "CNY") -> None:
        if not isinstance(data, Mapping):
            raise MappingError("not_an_object", path or "body", "Expected a JSON object.")
        self.data = data
        self.path = path
        self.currency = currency

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def child(self, key: str) -> NativeReader:
        return NativeReader(self.data.get(key) or {}, self.at(key), self.currency)

    def items(self, *keys: str) -> list[NativeReader]:
        """A nested list (TOP wraps lists: orders.order[]); each element read with its index in the path."""
        value: Any = self.data
        path = self.path
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
            path = f"{path}.{key}" if path else key
        if not isinstance(value, Sequence) or isinstance(value, str) or not value:
            raise MappingError("required", path, "At least one item is required.")
        return [NativeReader(v, f"{path}[{i}]", self.currency) for i, v in enumerate(value)]

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise MappingError("required", self.at(key), "This native field is required.")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise MappingError("type", self.at(key), "Expected text or a number.")
        return str(value).strip()

    def integer(self, key: str, *, required: bool = True) -> int:
        value = self.data.get(key)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if value is None and not required:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise MappingError("type" if value is not None else "required", self.at(key), "Expected a whole number.")
        return value

    def quantity(self, key: str) -> int:
        """A required whole number of units, greater than 0."""
        value = self.integer(key)
        if value <= 0:
            raise MappingError("not_positive", self.at(key), "The quantity must be greater than 0.")
        return value

    def money(self, key: str, *, required: bool = False, allow_negative: bool = False) -> int:
        """Decimal yuan text ("12.30") or, with `cents=True` readers, integer fen: minor units either way."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise MappingError("required", self.at(key), "This native money field is required.")
            return 0
        try:
            return parse_minor(value, self.currency, allow_negative=allow_negative, field=self.at(key))
        except MoneyError as exc:
            raise MappingError(exc.code, self.at(key), exc.message) from exc

    def yuan_number(self, key: str, *, required: bool = False) -> int:
        """Yuan sent as a JSON number (Pinduoduo: 19.9): read through its shortest decimal text, so 19.9 is
        1990 fen exactly and 19.999 is refused rather than rounded."""
        value = self.data.get(key)
        if isinstance(value, float):
            text = repr(value)
            if "e" in text or "n" in text:
                raise MappingError("bad_amount", self.at(key), f"{text} is not an amount.")
            return self.money_of(key, text)
        return self.money(key, required=required)

    def money_of(self, key: str, text: str) -> int:
        try:
            return parse_minor(text, self.currency, field=self.at(key))
        except MoneyError as exc:
            raise MappingError(exc.code, self.at(key), exc.message) from exc

    def cents(self, key: str, *, required: bool = False) -> int:
        """Money the platform sends as integer minor units (Douyin, Pinduoduo-style fen)."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise MappingError("required", self.at(key), "This native money field is required.")
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MappingError("bad_amount", self.at(key), "Expected a non-negative whole number of fen.")
        return value

    def local_time(self, key: str, *, required: bool = False) -> datetime | None:
        """'yyyy-MM-dd HH:mm:ss' in China time (TOP, JD), or an ISO 8601 time with its offset."""
        text = self.text(key, required=required)
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise MappingError("bad_datetime", self.at(key), f"{text!r} is not a time.") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA_TZ)

    def epoch(self, key: str, *, required: bool = False) -> datetime | None:
        """Unix seconds (Douyin, Pinduoduo)."""
        value = self.data.get(key)
        if value in (None, "", 0) and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise MappingError("bad_datetime", self.at(key), "Expected Unix seconds.")
        return datetime.fromtimestamp(value, tz=CHINA_TZ)


def money_text(minor: int, currency: str = "CNY") -> str:
    return format_minor(minor, currency)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def is_masked(*texts: str) -> bool:
    """Platforms mask receiver text for privacy (张**, 138****1234): such text is display only, never a key."""
    return any("*" in t for t in texts)


def share_mismatches(ours: Mapping[str, int], theirs: Sequence[LineShare]) -> list[dict[str, Any]]:
    """Lines whose paid amount by our apportionment differs from the platform's own division."""
    out = []
    for share in theirs:
        mine = ours.get(share.platform_line_id)
        if mine is not None and mine != share.paid_minor:
            out.append({"line": share.platform_line_id, "ours": mine, "platform": share.paid_minor})
    return out
