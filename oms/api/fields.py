"""Field-level permissions on responses (ASVS 8.2.3): who may see a customer's contact data or a
payment's transaction ids.

A caller who lacks a field's permission gets the field as ``null`` (never absent, so the response keeps
its declared shape) wherever it occurs in a response body: order details and lists, timelines (event
data), payments, customers, bulk and replayed answers. `FIELD_PERMISSIONS` is the one list; the README
and the OpenAPI descriptions point here, and the authorisation matrix test checks it for every role.
"""

from __future__ import annotations

import re
from typing import Any

# permission -> the response keys it guards (any depth)
FIELD_PERMISSIONS: dict[str, frozenset[str]] = {
    "orders.view_customer": frozenset(
        {"receiver_phone", "phone", "address", "postcode", "email", "tax_id", "platform_buyer_id", "buyer_phone"}
    ),
    "orders.view_payment": frozenset({"transaction_id", "refund_of", "platform_refund_id"}),
}


def hidden_keys(user: Any) -> frozenset[str]:
    """The response keys this caller may not see (none for a signed callback or a full administrator)."""
    # Only signed callbacks reach a view unauthenticated; they see what they sent.
    if user is None or not user.is_authenticated:
        return frozenset()
    has_perm = user.has_perm
    hidden: set[str] = set()
    for perm, keys in FIELD_PERMISSIONS.items():
        if not has_perm(perm):
            hidden |= keys
    return frozenset(hidden)


# A 409's differences name a field by its path and carry both values under these keys.
DIFFERENCE_VALUES = frozenset({"existing", "incoming"})


def _names_hidden_field(data: dict[str, Any], hidden: frozenset[str]) -> bool:
    path = data.get("field")
    if not isinstance(path, str) or not DIFFERENCE_VALUES & data.keys():
        return False
    leaf = re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1])
    return leaf in hidden or f"{path.split('.', 1)[0]}_{leaf}" in hidden


def redact(data: Any, hidden: frozenset[str]) -> Any:
    """``data`` with every guarded key set to None (a copy; the input is not changed)."""
    if not hidden:
        return data
    if isinstance(data, dict):
        if _names_hidden_field(data, hidden):  # a difference of a 409: {"field": "receiver.phone", "existing": …}
            return {k: None if k in DIFFERENCE_VALUES else redact(v, hidden) for k, v in data.items()}
        return {k: None if k in hidden and v is not None else redact(v, hidden) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact(v, hidden) for v in data]
    return data
