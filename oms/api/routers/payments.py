"""Payments API: operators record payments; payment providers call back, signed.

Provider callbacks are not operator calls, so they carry no token or session. Each payment method has
its own shared secret (environment ``OMS_PAYMENT_SECRET_<METHOD>``, e.g. ``OMS_PAYMENT_SECRET_ALIPAY``)
and signs like every signed request here (`oms.outbox.domain.signing`): ``X-OMS-Timestamp`` (Unix
seconds) and ``X-OMS-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>``, within five
minutes. A method with no secret configured accepts no callbacks at all: there is no anonymous write.
Provider-specific formats (Alipay's RSA, WeChat Pay's v3 certificates) belong in adapters in front.
"""

import json
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.security import APIKeyHeader
from pydantic import Field

from oms.api.auth import require_perm
from oms.api.routers.order_schemas import order_detail, payment_out
from oms.api.types import Day, When
from oms.channels.models import Channel
from oms.core.domain.money import format_minor, parse_minor
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.models import PaymentKind
from oms.orders.selectors import order_get
from oms.orders.services.payments import PAYMENT_METHODS, payment_callback_receive, payment_record
from oms.outbox.domain.signing import HEADER_SIGNATURE, SignatureInvalid, verify_signature
from oms.reports.selectors import cash_totals

router = Router(tags=["payments"])
F = TypeVar("F", bound=Callable[..., Any])


def callback_secret(method: str) -> str:
    configured: Any = settings.OMS.get("PAYMENT_CALLBACK_SECRETS") or {}
    from_settings = configured.get(method) if isinstance(configured, dict) else ""
    return str(from_settings or os.environ.get(f"OMS_PAYMENT_SECRET_{method.upper()}", ""))


class PaymentSignatureAuth(APIKeyHeader):
    """Authenticates a provider, not an operator: a fresh signature of the body under the method's secret."""

    param_name = HEADER_SIGNATURE

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        match = request.resolver_match
        method = str(match.kwargs.get("method", "")) if match else ""
        secret = callback_secret(method) if method in PAYMENT_METHODS else ""
        if not secret or not key:
            return None
        try:
            verify_signature(secret, request.headers, request.body, now=time.time())
        except SignatureInvalid:
            return None
        return f"callback:{method}"


def signed_callback(func: F) -> F:
    """Marks an endpoint as a payment-provider callback: no operator permission, HMAC-authenticated."""
    func.required_perms = ()  # type: ignore[attr-defined]
    func.auth_kind = "payment_signature"  # type: ignore[attr-defined]
    return func


class PaymentRecordIn(Schema):
    method: str = Field(..., description=", ".join(PAYMENT_METHODS))
    transaction_id: str = Field(..., min_length=1, max_length=64)
    amount: str = Field(..., examples=["99.00"])
    kind: str = Field("payment", description="payment or refund")
    paid_at: When | None = None
    refund_of: str = Field(
        "",
        max_length=64,
        description="for a refund: the transaction id of the payment it pays back (settled first); "
        "otherwise a payment with the refund's own method and transaction id, then the oldest owed back",
    )


class CallbackIn(Schema):
    order_number: str
    transaction_id: str
    trade_status: str = Field(..., description="success, refund; anything else is acknowledged and ignored")
    amount: str
    paid_at: When | None = None
    refund_of: str | None = Field(None, description="for a refund: the transaction id of the payment it pays back")


@router.post("/orders/{number}/payments", summary="Record a payment or refund by hand")
@require_perm("orders.record_payment")
def payment_create(request: HttpRequest, number: str, payload: PaymentRecordIn) -> dict[str, Any]:
    order = order_get(number=number)
    if payload.kind not in (PaymentKind.PAYMENT, PaymentKind.REFUND):
        raise ValidationFailed("kind is payment or refund.", code="validation_error")
    result = payment_record(
        order=order,
        method=payload.method,
        transaction_id=payload.transaction_id,
        amount_minor=parse_minor(payload.amount, order.currency, field="amount"),
        paid_at=payload.paid_at,
        actor=request.user,
        kind=payload.kind,
        refund_of=payload.refund_of,
    )
    return {
        "created": result.created,
        "payment": payment_out(result.payment),
        "order": order_detail(order_get(number=number)),
        # For an order a split or merge replaced: the living orders the money reached, and how much each.
        "routed": [{"order": o.number, "amount": format_minor(share, o.currency)} for o, share in result.routed],
    }


@router.post(
    "/payments/callbacks/{method}",
    auth=PaymentSignatureAuth(),
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": CallbackIn.model_json_schema()}}}},
    summary="Payment provider status callback (HMAC-signed, not for operators)",
)
@signed_callback
def payment_callback(request: HttpRequest, method: str) -> dict[str, Any]:
    """Idempotent on the transaction id: repeats answer ``duplicate``; late payments for cancelled orders
    are kept and flagged for refund; other trade statuses are acknowledged and change nothing."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationFailed("The body is not valid JSON.", code="bad_json") from None
    if not isinstance(body, dict):
        raise ValidationFailed("Expected a JSON object.", code="bad_json")
    result = payment_callback_receive(method=method, body=body)
    if result is None:
        return {"result": "ignored"}
    return {
        "result": "recorded" if result.created else "duplicate",
        "payment": payment_out(result.payment),
        "order_status": result.order.status,
        "payment_status": result.order.payment_status,
        "routed": [{"order": o.number, "amount": format_minor(share, o.currency)} for o, share in result.routed],
    }


class TotalsQuery(Schema):
    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")
    channel: str = ""


@router.get("/payments/totals", summary="Cash received and refunded per currency (real payments only)")
@require_perm("orders.view_payment")
def payment_totals(request: HttpRequest, query: Query[TotalsQuery]) -> dict[str, Any]:
    """By the day paid (``from``/``to`` inclusive, local days), optionally for one channel. Counts payment
    records of real methods only: the shares that split and merged orders carry (method ``carried``) are
    bookkeeping for each order's own paid status, and would count the same money twice."""
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationFailed(
            "from is after to.", details=[FieldError("from", "The period starts after it ends.", "bad_range")]
        )
    channel_id = None
    if query.channel:
        channel_id = Channel.objects.filter(code=query.channel).values_list("pk", flat=True).first()
        if channel_id is None:
            raise ValidationFailed(
                f"No channel {query.channel!r}.", details=[FieldError("channel", "No such channel.", "not_found")]
            )
    return {
        "totals": [
            c.shown() for c in cash_totals(day_from=query.date_from, day_to=query.date_to, channel_id=channel_id)
        ]
    }
