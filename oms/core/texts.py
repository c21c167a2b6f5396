"""Text the system writes for operators, rendered in the reader's language when it is shown.

What a service writes for people to read (a timeline entry, a hold's reason, an allocation decision, an
error) is a *code* with *parameters*; the words are chosen at display time, in the operator's language.
Each app declares its own codes in its ``texts.py`` (found on first use), with the English template as
the gettext message id::

    text_define("allocation.tie_break", gettext_noop("tie-break %(order)s: %(warehouse)s (%(km)s km away)"),
                order=strategies_render)

Rows written before codes existed hold the English text their code's template makes. That text is
parsed back into the code and its parameters (the template read as a pattern), so old rows render in the
reader's language too; text an operator typed (a cancel reason) matches no template and shows as typed.

Labels are the same for single words (an event kind, a payment method): ``label_define("payment_method",
{"alipay": gettext_noop("Alipay")})``, ``label("payment_method", "alipay")``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext

from oms.core.errors import ApplicationError

ParamRender = Callable[[Any], str]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class TextDef:
    code: str
    msgid: str  # the English template: %(name)s placeholders
    params: Mapping[str, ParamRender] = field(default_factory=dict)
    stored: str = ""  # the English form rows were written in, when it is not the template itself

    def render(self, params: Mapping[str, Any] | None) -> str:
        if not _PLACEHOLDER.search(self.msgid):
            return gettext(self.msgid)  # a bare "30%" is no format
        values: dict[str, Any] = {}
        for name in _PLACEHOLDER.findall(self.msgid):
            raw = (params or {}).get(name, "")
            renderer = self.params.get(name)
            values[name] = renderer(raw) if renderer is not None else raw
        return gettext(self.msgid) % values


class _Catalogue:
    def __init__(self) -> None:
        self.defs: dict[str, TextDef] = {}
        self.exact: dict[str, str] = {}  # English text of a template without parameters → code
        self.patterns: list[tuple[re.Pattern[str], str]] = []
        self.labels: dict[tuple[str, str], str] = {}
        self.loaded = False
        self.lock = threading.Lock()


_CATALOGUE = _Catalogue()


def _pattern(msgid: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(msgid)
    # split() alternates literal text and placeholder names.
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$", re.DOTALL)


def text_define(code: str, msgid: str, *, stored: str = "", parse: bool = True, **params: ParamRender) -> TextDef:
    """Declare a code and its English template (mark the template with ``gettext_noop`` so it is
    extracted for translation); ``params`` render parameter values that need words of their own;
    ``stored`` is the English form existing rows hold when it differs from the template (a field path
    such as ``groups[1]`` shown as "group 2"). ``parse=False``: a text only ever rendered from its code,
    never stored as English, so it is no pattern for stored text."""
    definition = TextDef(code, msgid, params, stored)
    _CATALOGUE.defs[code] = definition
    written = stored or msgid
    if not parse:
        return definition
    if _PLACEHOLDER.search(written):
        _CATALOGUE.patterns.append((_pattern(written), code))
        # The most literal text first: "tie-break %(order)s: …" before a looser "%(a)s → %(b)s".
        _CATALOGUE.patterns.sort(key=lambda p: -len(_PLACEHOLDER.sub("", p[0].pattern)))
    else:
        _CATALOGUE.exact.setdefault(written, code)
    return definition


def label_define(namespace: str, labels: Mapping[str, str]) -> None:
    """Declare the words for the codes of one namespace (English msgids marked with ``gettext_noop``)."""
    for code, msgid in labels.items():
        _CATALOGUE.labels[(namespace, code)] = msgid


def _ensure_loaded() -> None:
    if _CATALOGUE.loaded:
        return
    with _CATALOGUE.lock:
        if not _CATALOGUE.loaded:
            autodiscover_modules("texts")
            _CATALOGUE.loaded = True


def text_render(code: str, params: Mapping[str, Any] | None = None, *, default: str = "") -> str:
    """The text of ``code`` in the current language; ``default`` (or the code) if no app declares it."""
    _ensure_loaded()
    definition = _CATALOGUE.defs.get(code)
    if definition is None:
        return default or code
    return definition.render(params)


def text_parse(text: str) -> tuple[str, dict[str, str]] | None:
    """The code and parameters of a stored English system text, or None (an operator's own words)."""
    _ensure_loaded()
    text = text.strip()
    code = _CATALOGUE.exact.get(text)
    if code is not None:
        return code, {}
    for pattern, code in _CATALOGUE.patterns:
        match = pattern.match(text)
        if match:
            return code, match.groupdict()
    return None


def stored_text_render(text: str) -> str:
    """A stored text in the current language: system texts by their code, several joined by "; " each on
    its own, anything else (what an operator typed) as it is."""
    if not text:
        return ""
    parsed = text_parse(text)
    if parsed is not None:
        return text_render(parsed[0], parsed[1])
    if "; " in text:
        parts = text.split("; ")
        if any(text_parse(p) for p in parts):
            return gettext("; ").join(stored_text_render(p) for p in parts)
    return text


def label(namespace: str, code: str, default: str | None = None) -> str:
    """The word for ``code`` in ``namespace`` in the current language; ``default`` (or the code) if none."""
    _ensure_loaded()
    msgid = _CATALOGUE.labels.get((namespace, code))
    if msgid is None:
        return code if default is None else default
    return gettext(msgid)


def has_label(namespace: str, code: str) -> bool:
    _ensure_loaded()
    return (namespace, code) in _CATALOGUE.labels


def known_codes(namespace: str) -> list[str]:
    """Every code with a label in ``namespace`` (tests check each renders)."""
    _ensure_loaded()
    return sorted(c for ns, c in _CATALOGUE.labels if ns == namespace)


def text_definitions() -> list[TextDef]:
    _ensure_loaded()
    return list(_CATALOGUE.defs.values())


def error_render(exc: ApplicationError) -> str:
    """An application error as an operator reads it: its message, then each field's problem, in the
    current language (fields by their names on screen, messages by their codes)."""
    message = stored_text_render(exc.message)
    problems = [f"{stored_text_render(d.field)}: {stored_text_render(d.message)}" for d in exc.details]
    return " ".join([message, gettext("; ").join(problems)]).strip() if problems else message


def error_problems(exc: ApplicationError) -> list[str]:
    """Each field's problem on its own line (the message when no field is named)."""
    if not exc.details:
        return [stored_text_render(exc.message)]
    return [f"{stored_text_render(d.field)}: {stored_text_render(d.message)}" for d in exc.details]


def _define_kernel_texts() -> None:
    """The kernel's own codes: the named system actors (`oms.core.actors`) that act on orders."""
    from django.utils.translation import gettext_noop

    text_define("actor.system", gettext_noop("System"), stored="system")
    text_define("actor.auto_merge", gettext_noop("Automatic merge"), stored="auto-merge")
    text_define("actor.auto_split", gettext_noop("Automatic split"), stored="auto-split")
    text_define("actor.cli", gettext_noop("Command line"), stored="cli")
    text_define(
        "actor.callback",
        gettext_noop("Payment callback (%(method)s)"),
        stored="callback:%(method)s",
        method=lambda v: label("payment_method", str(v)),
    )
    text_define("actor.wms", gettext_noop("Warehouse system %(warehouse)s"), stored="wms:%(warehouse)s")


_define_kernel_texts()
