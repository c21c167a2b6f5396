"""Platform adapters by platform code."""

from __future__ import annotations

from oms.connectors.adapters.base import PlatformAdapter
from oms.connectors.adapters.douyin import DouyinAdapter
from oms.connectors.adapters.jd import JdAdapter
from oms.connectors.adapters.pinduoduo import PinduoduoAdapter
from oms.connectors.adapters.shopify import ShopifyAdapter
from oms.connectors.adapters.taobao import TaobaoAdapter

ADAPTERS: dict[str, PlatformAdapter] = {
    "taobao": TaobaoAdapter(),
    "jd": JdAdapter(),
    "douyin": DouyinAdapter(),
    "pinduoduo": PinduoduoAdapter(),
    "shopify": ShopifyAdapter(),
}


def adapter_for(platform: str) -> PlatformAdapter:
    return ADAPTERS[platform]
