"""The one interface every platform adapter implements, and the errors a platform call can end in.

An adapter knows one platform's wire format: how to ask for a page of orders changed in a window, how to
map one native order (`oms.connectors.domain.<platform>`), and how to write a shipment or stock figures
back. It holds no state beyond the shop's connection details and does no database work: the pull and
write-back services own retries, rate limits, cursors and bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from oms.connectors.domain.mapped import MappedOrder, MappedRefund


@dataclass(frozen=True)
class Connection:
    """What an adapter needs to call the platform for one shop (credentials decrypted only for the call)."""

    base_url: str
    app_key: str
    app_secret: str
    access_token: str
    shop_ref: str = ""  # the shop's id on the platform (e.g. a Shopify shop domain)
    timeout_s: float = 10.0


@dataclass(frozen=True)
class OrdersPage:
    orders: list[dict[str, Any]]
    total: int  # orders in the whole window (so pages can be read last first)
    page: int
    next_cursor: str = ""  # cursor-paged platforms (Shopify): where the next page starts; "" on the last


@dataclass(frozen=True)
class ParcelOut:
    tracking_number: str
    courier_code: str  # the platform's courier code (mapped from ours by the write-back service)
    platform_line_ids: tuple[str, ...] = ()  # sub-orders in this parcel; empty: the whole order


@dataclass(frozen=True)
class ShipmentOut:
    platform_order_id: str
    parcels: tuple[ParcelOut, ...]


@dataclass(frozen=True)
class StockFigure:
    platform_sku_code: str
    quantity: int


@dataclass
class PlatformError(Exception):
    """A platform call that did not succeed. `retryable` errors are retried with backoff."""

    code: str
    message: str
    retryable: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "platform_error"

    def __post_init__(self) -> None:
        super().__init__(self.message)


@dataclass
class RateLimited(PlatformError):
    retryable: bool = True
    kind: ClassVar[str] = "rate_limited"


@dataclass
class PlatformUnavailable(PlatformError):
    """Timeout, connection refused, a 5xx or an error page instead of JSON."""

    retryable: bool = True
    kind: ClassVar[str] = "unavailable"


@dataclass
class AuthExpired(PlatformError):
    """The token was refused (expired or revoked): nothing more can be pulled until it is renewed."""

    kind: ClassVar[str] = "auth_expired"


class PlatformAdapter(Protocol):
    platform: str
    # Calls per second the platform grants one app for one shop; the pull service paces itself to it.
    calls_per_second: float
    # The longest modified-time window one call may ask for.
    max_window_s: int
    page_size: int

    def orders_page(
        self, conn: Connection, *, start: datetime, end: datetime, page: int, cursor: str = ""
    ) -> OrdersPage: ...

    def map_order(self, native: dict[str, Any]) -> MappedOrder: ...

    def map_refunds(self, native: dict[str, Any]) -> tuple[MappedRefund, ...]: ...

    def shipment_write_back(self, conn: Connection, shipment: ShipmentOut) -> dict[str, Any]: ...

    def stock_write_back(self, conn: Connection, figures: list[StockFigure]) -> dict[str, Any]: ...
