"""SKU designations: hot SKUs (爆款), whose one-at-a-time channel reservations are queued and granted in
batches. Beside the SKU stock endpoints (``/skus/{code}/stock``); SKUs are named by code."""

from django.http import HttpRequest
from ninja import Field, Router, Schema

from oms.api.auth import require_perm
from oms.catalog.models import Sku
from oms.catalog.selectors import sku_hot_list
from oms.catalog.services import sku_hot_set

router = Router(tags=["catalog"])


class HotIn(Schema):
    is_hot: bool = Field(description="true designates the SKU hot (爆款), false undesignates it")
    reason: str = Field("", max_length=500)


class SkuHotOut(Schema):
    sku: str = Field(description="SKU code (商家编码)")
    name: str
    is_hot: bool

    @staticmethod
    def resolve_sku(obj: Sku) -> str:
        return obj.code


@router.get("/skus/hot", response=list[SkuHotOut], summary="Hot SKUs (爆款)")
@require_perm("catalog.view_sku")
def hot_list(request: HttpRequest) -> list[Sku]:
    return list(sku_hot_list())


@router.put("/skus/{code}/hot", response=SkuHotOut, summary="Designate or undesignate a hot SKU")
@require_perm("catalog.designate_hot_sku")
def hot_set(request: HttpRequest, code: str, payload: HotIn) -> Sku:
    """Takes effect within 10 seconds: each worker process keeps the hot set that long."""
    return sku_hot_set(code=code, is_hot=payload.is_hot, actor=request.user, reason=payload.reason)
