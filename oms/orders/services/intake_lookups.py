"""Intake's look-ups (channels, SKUs, SKU mappings) kept per process for the one-round-trip path on PostgreSQL,
checked by the database on every use.

Every entry carries its row's version — PostgreSQL's ``xmin`` and ``ctid`` (the transaction that wrote the row
version and where it lies: an update by another transaction changes the first, any update the second). The intake
function (`intake_pg`) compares the versions of what an order used with the rows as they are, in the statement
that writes the order, and writes nothing when one differs (or when a platform SKU code that had no mapping has
one now); the caller then drops the cache and prepares the order again from fresh rows. A stale entry therefore
costs one more round trip, never a wrong row, and no process has to tell the others that something changed.

Codes the database does not know are remembered too: an order that a missing code refuses is refused by the
general path, from fresh rows; a platform SKU code with neither a mapping nor a SKU of that code leaves its line
unmapped, and the function checks that it still has neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models.expressions import RawSQL

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.orders.models import PlatformSkuMapping
from oms.orders.services.intake_prepare import Lookups, payload_codes

# Past this many entries the cache starts afresh (a catalogue far larger than what sells keeps memory bounded).
MAX_ENTRIES = 50_000
_NO_MAPPING = (None, "")
# A row version, as the intake function (migration orders 0016) computes it.
ROW_VERSION = "{table}.xmin::text || ':' || {table}.ctid::text"


def _version(table: str) -> RawSQL:
    return RawSQL(ROW_VERSION.format(table=f'"{table}"'), ())  # noqa: S611 - columns of our own table


@dataclass
class Versions:
    """Row versions of what one order's look-ups came from, as the intake function checks them."""

    channel: tuple[int, str]
    skus: dict[int, str] = field(default_factory=dict)
    # platform SKU code → (mapping id, version), or (None, "") when the code had no mapping
    mappings: dict[str, tuple[int | None, str]] = field(default_factory=dict)
    absent_skus: set[str] = field(default_factory=set)  # codes no SKU had

    def as_check(self) -> dict[str, Any]:
        return {
            "channel": self.channel[1],
            "skus": [{"id": pk, "v": v} for pk, v in sorted(self.skus.items())],
            "codes": sorted(self.mappings),
            "mappings": [{"id": pk, "v": v} for pk, v in self.mappings.values() if pk is not None],
            "absent": sorted(self.absent_skus),
        }


@dataclass
class CachedLookups(Lookups):
    """Look-ups taken from the cache, with what the intake function needs to check them: the mapping rows found
    (or not) for each (channel id, platform SKU code) and the codes no SKU had, as they were when taken."""

    mapping_rows: dict[tuple[int, str], tuple[int | None, str]]  # (None, "") where there was none
    absent_skus: set[str]

    def versions(self, *, channel: Channel, skus: Sequence[Sku | None], mapped_codes: Sequence[str]) -> Versions:
        """The versions one order's look-ups came from: its channel, the SKUs of its lines, the mappings of the
        platform SKU codes it looked up (``mapped_codes``) and, for those that found no SKU, that no SKU has
        that code."""
        versions = Versions(channel=(channel.pk, channel.row_version))  # type: ignore[attr-defined]
        for sku in skus:
            if sku is not None:
                versions.skus[sku.pk] = sku.row_version  # type: ignore[attr-defined]
        for code in mapped_codes:
            pk, version = self.mapping_rows.get((channel.pk, code), _NO_MAPPING)
            versions.mappings[code] = (pk, version)
            if pk is None and code in self.absent_skus:
                versions.absent_skus.add(code)
        return versions


class LookupCache:
    """Channels by code, SKUs by code and mappings by (channel id, platform SKU code), each with its row version.
    Safe to share between threads: entries are only added or all dropped, and what one order uses is taken once."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.skus: dict[str, Sku] = {}
        self.mappings: dict[tuple[int, str], tuple[int | None, str, Sku | None]] = {}
        self.absent_skus: set[str] = set()
        self.loads = 0  # queries sent to fill the cache (tests and the benchmark read it)

    def clear(self) -> None:
        self.channels.clear()
        self.skus.clear()
        self.mappings.clear()
        self.absent_skus.clear()

    def lookups(self, payloads: Sequence[Any]) -> CachedLookups:
        """The look-ups of ``payloads``, reading only what the cache does not hold yet."""
        channel_codes, sku_codes, platform_codes = payload_codes(payloads)
        if len(self.skus) + len(self.mappings) + len(self.absent_skus) > MAX_ENTRIES:
            self.clear()
        self._load_channels(channel_codes - self.channels.keys())
        channels = {code: c for code in channel_codes if (c := self.channels.get(code)) is not None}
        self._load_mappings(channels.values(), platform_codes)
        mappings: dict[tuple[int, str], Sku] = {}
        mapping_rows: dict[tuple[int, str], tuple[int | None, str]] = {}
        for channel in channels.values():
            for code in platform_codes:
                pk, version, sku = self.mappings.get((channel.pk, code), (*_NO_MAPPING, None))
                mapping_rows[(channel.pk, code)] = (pk, version)
                if sku is not None:
                    mappings[(channel.pk, code)] = sku
        codes = sku_codes | platform_codes
        self._load_skus(codes - self.skus.keys() - self.absent_skus)
        skus = {code: sku for code in codes if (sku := self.skus.get(code)) is not None}
        absent = codes - skus.keys()  # (also a code whose entry another thread dropped meanwhile: checked all the same)
        return CachedLookups(
            channels=channels, skus=skus, mappings=mappings, mapping_rows=mapping_rows, absent_skus=absent
        )

    def _load_channels(self, codes: set[str]) -> None:
        if not codes:
            return
        self.loads += 1
        for channel in Channel.objects.filter(code__in=codes).annotate(row_version=_version("channels_channel")):
            self.channels[channel.code] = channel

    def _load_mappings(self, channels: Any, codes: set[str]) -> None:
        missing = {(c.pk, code) for c in channels for code in codes} - self.mappings.keys()
        if not missing:
            return
        self.loads += 1
        found = PlatformSkuMapping.objects.filter(
            channel_id__in={k[0] for k in missing}, platform_sku_code__in={k[1] for k in missing}
        ).select_related("sku")
        rows = found.annotate(
            row_version=_version("orders_platformskumapping"), sku_version=_version("catalog_sku")
        ).order_by()
        for key in missing:
            self.mappings[key] = (*_NO_MAPPING, None)
        for m in rows:
            m.sku.row_version = m.sku_version  # type: ignore[attr-defined]
            self.mappings[(m.channel_id, m.platform_sku_code)] = (m.pk, m.row_version, m.sku)

    def _load_skus(self, codes: set[str]) -> None:
        if not codes:
            return
        self.loads += 1
        for sku in Sku.objects.filter(code__in=codes).annotate(row_version=_version("catalog_sku")):
            self.skus[sku.code] = sku
        self.absent_skus |= codes - self.skus.keys()


LOOKUPS = LookupCache()  # one per process; entries are checked by the database on every use
