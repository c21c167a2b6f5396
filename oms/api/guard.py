"""The input guard every API operation passes after authorisation and before schema validation.

What no schema can say, checked once for all operations, each answered as a 4xx naming the field:
- a NUL byte (PostgreSQL text cannot hold one) or a lone UTF-16 surrogate (not encodable as UTF-8) in
  the path, a query parameter or any string of a JSON body → 422;
- a JSON body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` → 413 (see `RequestTooLarge`);
- a JSON body nested deeper than `MAX_JSON_DEPTH` → 422;
- an integer in a JSON body outside 64 bits → 422 (the schemas set the business ranges).
The parsed body is kept on the request, so the schema layer does not parse it twice (`CachedJsonParser`).

Operations that validate the items of a batch one by one (`per_item_validation`, e.g. bulk intake) get
only the envelope checks (size, depth, valid JSON): one bad order there must not refuse the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from ninja.parser import Parser

from oms.core.errors import ApplicationError, FieldError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

MAX_JSON_DEPTH = 32
INT64_MAX = 2**63 - 1
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_NO_BODY = object()


@dataclass
class RequestTooLarge(ApplicationError):
    code: str = "request_too_large"
    status: ClassVar[int] = 413


def per_item_validation(func: F) -> F:
    """Mark an operation whose body items are validated one by one (a bad item never refuses the batch)."""
    func.per_item_validation = True  # type: ignore[attr-defined]
    return func


def bad_text(value: str) -> str | None:
    """Why a string cannot be stored (NUL, lone surrogate), or None."""
    found = _BAD_CHARS.search(value)
    if found is None:
        return None
    return "a NUL byte" if found.group() == "\x00" else "a lone UTF-16 surrogate"


def _refuse(field: str, problem: str, code: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {problem}.", details=[FieldError(field, problem[0].upper() + problem[1:] + ".", code)]
    )


def guard_request(request: HttpRequest, view_func: Callable[..., Any]) -> None:
    _guard_path(request)
    _guard_query(request)
    if not (request.content_type or "").startswith(("multipart/", "application/x-www-form-urlencoded")):
        _guard_json(request, deep=not getattr(view_func, "per_item_validation", False))


def _guard_path(request: HttpRequest) -> None:
    match = request.resolver_match
    for name, value in match.kwargs.items() if match else ():
        problem = bad_text(str(value))
        if problem:
            raise _refuse(name, f"contains {problem}", "bad_character")
    problem = bad_text(request.path)
    if problem:
        raise _refuse("path", f"contains {problem}", "bad_character")


def _guard_query(request: HttpRequest) -> None:
    for key, values in request.GET.lists():
        for text in (key, *values):
            problem = bad_text(text)
            if problem:
                raise _refuse((bad_text(key) and "query") or key, f"contains {problem}", "bad_character")


def _read_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise RequestTooLarge(
            f"The body is larger than {limit} bytes.",
            details=[FieldError("body", f"At most {limit} bytes per request; send a smaller batch.", "too_large")],
        ) from None


def _guard_json(request: HttpRequest, *, deep: bool) -> None:
    raw = _read_body(request)
    if not raw.strip():
        return
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _refuse("body", f"nested deeper than {MAX_JSON_DEPTH} levels", "too_deep") from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "The body is not valid JSON.", details=[FieldError("body", "Not valid JSON.", "bad_json")]
        ) from None
    _walk(data, deep=deep)
    request._oms_json = data  # type: ignore[attr-defined]


def _walk(data: Any, *, deep: bool) -> None:
    """Depth-first without recursion (a hostile body must not exhaust the stack)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _refuse(path or "body", f"nested deeper than {MAX_JSON_DEPTH} levels", "too_deep")
        if isinstance(node, dict):
            for key, value in node.items():
                if deep and bad_text(key):
                    raise _refuse(path or "body", f"has a key containing {bad_text(key)}", "bad_character")
                stack.append((value, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]", depth + 1) for i, value in enumerate(node))
        elif not deep:
            continue
        elif isinstance(node, str):
            problem = bad_text(node)
            if problem:
                raise _refuse(path or "body", f"contains {problem}", "bad_character")
        elif isinstance(node, int) and not isinstance(node, bool) and not -INT64_MAX - 1 <= node <= INT64_MAX:
            raise _refuse(path or "body", "is outside the 64-bit integer range", "out_of_range")


class CachedJsonParser(Parser):
    """Ninja's body parser, reusing the body the guard has already parsed and checked."""

    def parse_body(self, request: HttpRequest) -> Any:
        cached = getattr(request, "_oms_json", _NO_BODY)
        if cached is not _NO_BODY:
            return cached
        return super().parse_body(request)
