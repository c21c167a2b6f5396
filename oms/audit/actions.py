"""Operation-log action names recorded by the admin site for any model it edits:
``<model name>.create``, ``.change``, ``.delete``."""

from __future__ import annotations

from typing import Final, Literal

from django.db import models

AdminVerb = Literal["create", "change", "delete"]
ADMIN_CREATE: Final = "create"
ADMIN_CHANGE: Final = "change"
ADMIN_DELETE: Final = "delete"


def admin_action(obj: models.Model, verb: AdminVerb) -> str:
    """The action an admin edit of ``obj`` is logged as."""
    return f"{obj._meta.model_name}.{verb}"
