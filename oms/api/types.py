"""Bounded field types of the API contract: what a schema declares is what it accepts.

Integers are JSON integers within 64 bits (or a narrower business range), never strings; times carry a
real-world UTC offset and a storable year. A value outside is a 422 naming the field, and the OpenAPI
document states the bounds, so a client (or the fuzzer) can know them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

from oms.core.domain.limits import MAX_DOCUMENT_LINE_QUANTITY, MAX_ORDER_LINE_QUANTITY

INT64_MAX = 2**63 - 1

# A database id in a path or body.
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
# Units of stock on a document line: a JSON integer (never "3"), 0 … the per-line limit.
StockUnits = Annotated[StrictInt, Field(ge=0, le=MAX_DOCUMENT_LINE_QUANTITY)]
# Units on an order line.
OrderUnits = Annotated[StrictInt, Field(gt=0, le=MAX_ORDER_LINE_QUANTITY)]
# A JSON integer in a body, anywhere in 64 bits.
Int64 = Annotated[StrictInt, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]


# A list's page size.
PageSize = Annotated[int, Field(ge=1, le=500)]
LongPageSize = Annotated[int, Field(ge=1, le=1000)]


_MAX_OFFSET = timedelta(hours=14)


def _storable(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > _MAX_OFFSET:
        raise ValueError("The UTC offset must lie between -14:00 and +14:00")
    if not 1970 <= value.year <= 9998:
        raise ValueError("The time must lie between 1970 and 9998")
    return value


# An ISO 8601 time the database can store.
When = Annotated[datetime, AfterValidator(_storable)]


def _storable_day(value: date) -> date:
    if not 1970 <= value.year <= 9998:
        raise ValueError("The day must lie between 1970 and 9998")
    return value


# A calendar day the database can compare with stored times.
Day = Annotated[date, AfterValidator(_storable_day)]
