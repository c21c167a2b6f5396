"""Platform adapters by platform code."""

from __future__ import annotations

from oms.connectors.adapters.base import PlatformAdapter
from oms.connectors.adapters.taobao import TaobaoAdapter

ADAPTERS: dict[str, PlatformAdapter] = {
    "taobao": TaobaoAdapter(),
}


def adapter_for(platform: str) -> PlatformAdapter:
    return ADAPTERS[platform]
