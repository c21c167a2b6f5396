"""Order numbers: human-readable and unique without a database-wide sequence."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.utils import timezone

_NUMBER_PREFIX = {"sale": "SO", "return": "RO", "reissue": "RS", "exchange": "EX"}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_number_new(*, order_type: str, at: datetime) -> str:
    """Type, local date, 10 random base-32 characters (50 bits; collisions are caught by the unique
    index and retried)."""
    tail = "".join(secrets.choice(_CROCKFORD) for _ in range(10))
    return f"{_NUMBER_PREFIX[order_type]}{timezone.localtime(at):%y%m%d}{tail}"
