"""Who does something: an operator (a signed-in user, through the console or an API token) or a named
system actor (the pipeline, auto-merge, a platform callback, a warehouse system). Every service that
records who acted takes an `Actor`; the timeline and the operation log store its name (and the user,
for an operator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeAlias


class Operator(Protocol):
    """What the services read of a user: `accounts.Operator` (and Django's anonymous user) fit."""

    @property
    def pk(self) -> Any: ...

    @property
    def is_authenticated(self) -> bool: ...

    def get_username(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    """A named actor that is not a person; its name is what the timeline and the log show."""

    name: str
    is_authenticated: ClassVar[bool] = False

    def __str__(self) -> str:
        return self.name


Actor: TypeAlias = Operator | SystemActor

SYSTEM = SystemActor("system")
AUTO_MERGE = SystemActor("auto-merge")
AUTO_SPLIT = SystemActor("auto-split")
CLI = SystemActor("cli")
STOCK_PUSH_CLI = SystemActor("oms stock push")


def callback_actor(method: str) -> SystemActor:
    """A payment platform calling back (``callback:alipay``)."""
    return SystemActor(f"callback:{method}")


def wms_actor(warehouse_code: str) -> SystemActor:
    """A warehouse system calling back (``wms:HZ01``)."""
    return SystemActor(f"wms:{warehouse_code}")


def actor_name(actor: Actor | None) -> str:
    """The name stored with what the actor did: the username of an operator, else the actor's name."""
    if actor is None or isinstance(actor, SystemActor):
        return str(actor or SYSTEM)
    if getattr(actor, "is_authenticated", False):
        return str(actor.get_username())
    return str(actor) if actor else "system"


def actor_user(actor: Actor | None) -> Any:
    """The user to link (a foreign key to the operator), or None for a system actor."""
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None
