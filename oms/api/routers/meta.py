"""Who am I, and the reference data clients need to build valid requests."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from oms.api.auth import require_perm
from oms.channels.models import Channel

router = Router(tags=["meta"])


class MeOut(Schema):
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]


class ChannelOut(Schema):
    code: str
    name: str
    platform: str
    classification: str
    currency: str


@router.get("/me", response=MeOut)
@require_perm()
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.get_username(),
        display_name=getattr(user, "display_name", ""),
        roles=sorted(user.groups.values_list("name", flat=True)),
        permissions=sorted(user.get_all_permissions()),
    )


@router.get("/channels", response=list[ChannelOut])
@require_perm("channels.view_channel")
def channel_list(request: HttpRequest) -> list[Channel]:
    return list(Channel.objects.filter(is_active=True).order_by("code"))
