"""Intake, first half: check a batch of incoming orders against the database and plan their money.

Reads only, with one query per kind of lookup for the whole batch (channels, SKUs, mappings,
existing orders), so a batch of 1,000 orders costs the same handful of queries as one order.
The result is a list of `Prepared` orders ready to persist, or the errors that refuse each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.domain.intake import IntakeCommand, intake_parse, snapshot_fingerprint
from oms.orders.domain.money_plan import LineMoneyIn, OrderMoney, plan_order_money, reconcile_totals
from oms.orders.domain.promotion_intake import promotions_check
from oms.orders.domain.promotions import PromotionPlan, Units, plan_promotions
from oms.orders.models import Order, PlatformSkuMapping


@dataclass
class Prepared:
    index: int
    command: IntakeCommand
    channel: Channel
    money: OrderMoney
    skus: list[Sku | None]
    snapshot: dict[str, Any]
    fingerprint: str
    placed_at: datetime
    existing: Order | None = None
    promotions: PromotionPlan | None = None


@dataclass
class Refused:
    index: int
    errors: list[FieldError] = field(default_factory=list)

    def as_error(self) -> ValidationFailed:
        return ValidationFailed(f"{len(self.errors)} field(s) are invalid.", details=self.errors)


def _aware(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _raw_text(payload: Any, key: str) -> str:
    value = payload.get(key) if isinstance(payload, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def _raw_lines(payload: Any) -> list[Mapping[str, Any]]:
    lines = payload.get("lines") if isinstance(payload, Mapping) else None
    return [line for line in lines if isinstance(line, Mapping)] if isinstance(lines, list) else []


@dataclass
class Lookups:
    """What a batch's payloads name, as the database holds it: channels by code, SKUs by code, and SKU mappings
    by (channel id, platform SKU code). Codes the database does not know are simply absent."""

    channels: dict[str, Channel]
    skus: dict[str, Sku]
    mappings: dict[tuple[int, str], Sku]


def payload_codes(payloads: Sequence[Any]) -> tuple[set[str], set[str], set[str]]:
    """The channel codes, SKU codes and platform SKU codes the payloads name."""
    channel_codes = {_raw_text(p, "channel") for p in payloads} - {""}
    sku_codes: set[str] = set()
    platform_codes: set[str] = set()
    for p in payloads:
        for line in _raw_lines(p):
            for key, bucket in (("sku_code", sku_codes), ("platform_sku_code", platform_codes)):
                value = line.get(key)
                if isinstance(value, str) and value.strip():
                    bucket.add(value.strip())
    return channel_codes, sku_codes, platform_codes


def lookups_load(payloads: Sequence[Any]) -> Lookups:
    """One query per kind of look-up for the whole batch."""
    channel_codes, sku_codes, platform_codes = payload_codes(payloads)
    channels = {c.code: c for c in Channel.objects.filter(code__in=channel_codes)} if channel_codes else {}
    mappings: dict[tuple[int, str], Sku] = {}
    if platform_codes and channels:
        for m in PlatformSkuMapping.objects.filter(
            channel__in=list(channels.values()), platform_sku_code__in=platform_codes
        ).select_related("sku"):
            mappings[(m.channel_id, m.platform_sku_code)] = m.sku
    wanted = sku_codes | platform_codes
    skus = {s.code: s for s in Sku.objects.filter(code__in=wanted)} if wanted else {}
    return Lookups(channels=channels, skus=skus, mappings=mappings)


def intake_prepare(
    *, payloads: Sequence[Any], lookups: Lookups | None = None, find_existing: bool = True
) -> list[Prepared | Refused]:
    """Check each payload and plan its money; one result per payload, in order.

    Errors from parsing and from the database checks (unknown channel or SKU, currency the channel
    does not settle in, totals that do not reconcile) are reported together for each order. ``lookups``
    (channels, SKUs, mappings) are read from the database unless given; ``find_existing`` looks up the orders
    already taken in under the same platform order ids (a caller that lets the unique key find them skips it).
    """
    if lookups is None:
        lookups = lookups_load(payloads)
    channels, skus, mappings = lookups.channels, lookups.skus, lookups.mappings

    now = timezone.now()
    out: list[Prepared | Refused] = []
    for index, payload in enumerate(payloads):
        errors: list[FieldError] = []
        code = _raw_text(payload, "channel")
        channel = channels.get(code)
        if code and channel is None:
            errors.append(FieldError("channel", f"Unknown channel {code!r}.", "unknown_channel"))
        elif channel is not None and not channel.is_active:
            errors.append(FieldError("channel", f"Channel {code!r} is inactive.", "inactive_channel"))
        command, parse_errors = intake_parse(payload, default_currency=channel.currency if channel else "CNY")
        errors += parse_errors
        for i, line in enumerate(_raw_lines(payload)):
            value = line.get("sku_code")
            if isinstance(value, str) and value.strip() and value.strip() not in skus:
                errors.append(FieldError(f"lines[{i}].sku_code", f"Unknown SKU {value.strip()!r}.", "unknown_sku"))
        if command is not None and channel is not None and command.currency != channel.currency:
            errors.append(
                FieldError(
                    "currency",
                    f"Channel {channel.code} settles in {channel.currency}, not {command.currency}.",
                    "currency_mismatch",
                )
            )
        if errors or command is None or channel is None:
            out.append(Refused(index, errors))
            continue
        try:
            money, promotions = plan_intake_money(command)
        except ValidationFailed as exc:
            out.append(Refused(index, list(exc.details)))
            continue
        mismatches = reconcile_totals(money, command.stated, command.currency)
        if mismatches:
            out.append(Refused(index, mismatches))
            continue
        line_skus: list[Sku | None] = []
        for ln in command.lines:
            if ln.sku_code:
                line_skus.append(skus[ln.sku_code])
            else:
                line_skus.append(mappings.get((channel.pk, ln.platform_sku_code)) or skus.get(ln.platform_sku_code))
        snapshot = command.snapshot()  # computed once: it is both the stored record and the replay key
        out.append(
            Prepared(
                index=index,
                command=command,
                channel=channel,
                money=money,
                skus=line_skus,
                snapshot=snapshot,
                fingerprint=snapshot_fingerprint(snapshot),
                placed_at=_aware(command.placed_at, now),
                promotions=promotions,
            )
        )
    if find_existing:
        _attach_existing([p for p in out if isinstance(p, Prepared)])
    return out


def plan_intake_money(command: IntakeCommand) -> tuple[OrderMoney, PromotionPlan | None]:
    """The order's line money, its promotions first (item kinds into the line discounts, order kinds into the
    order discount, each divided by its rule), then the unnamed order discount and shipping. Raises
    ValidationFailed naming every field that does not add up."""
    lines = command.lines
    if not command.promotions:
        money = plan_order_money(
            [LineMoneyIn(ln.unit_price_minor, ln.quantity, ln.line_discount_minor) for ln in lines],
            order_discount_minor=command.order_discount_minor,
            shipping_minor=command.shipping_minor,
        )
        return money, None
    plan = plan_promotions(
        [pr.rule for pr in command.promotions],
        [Units(ln.unit_price_minor, ln.quantity, ln.line_discount_minor) for ln in lines],
    )
    errors = promotions_check(command.promotions, plan, command.currency)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    money = plan_order_money(
        [
            LineMoneyIn(ln.unit_price_minor, ln.quantity, ln.line_discount_minor + item)
            for ln, item in zip(lines, plan.item_discounts, strict=True)
        ],
        order_discount_minor=command.order_discount_minor,
        shipping_minor=command.shipping_minor,
        promotion_shares=plan.order_shares,
    )
    return money, plan


def _attach_existing(prepared: list[Prepared]) -> None:
    """One query: the orders already taken in under these (channel, platform order id) keys."""
    ids = {p.command.platform_order_id for p in prepared}
    if not ids:
        return
    existing = {
        (o.channel_id, o.platform_order_id): o
        # platform_order_id leads the unique intake-key index; matched to the channel below.
        for o in Order.objects.filter(platform_order_id__in=ids).only(
            "id", "number", "channel_id", "platform_order_id", "intake_fingerprint", "intake_snapshot", "status"
        )
    }
    for p in prepared:
        p.existing = existing.get((p.channel.pk, p.command.platform_order_id))
