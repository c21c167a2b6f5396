"""The one error family. Every code is stable and machine-readable; interfaces map them to 4xx."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass
class ApplicationError(Exception):
    """Base for every error a user may see. ``status`` is the HTTP status the API answers with."""

    message: str
    code: str = "application_error"
    details: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    status: ClassVar[int] = 400

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "details": [d.as_dict() for d in self.details],
        }
        if self.extra:
            body.update(self.extra)
        return body


@dataclass
class ValidationFailed(ApplicationError):
    code: str = "validation_error"
    status: ClassVar[int] = 422


@dataclass
class NotFound(ApplicationError):
    code: str = "not_found"
    status: ClassVar[int] = 404


@dataclass
class Conflict(ApplicationError):
    code: str = "conflict"
    status: ClassVar[int] = 409


@dataclass
class PermissionDenied(ApplicationError):
    code: str = "permission_denied"
    status: ClassVar[int] = 403
