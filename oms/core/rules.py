"""The one rule evaluator: conditions written by operators in a safe expression language.

Conditions use the `rule-engine` library's grammar (never Python ``eval``), type-checked against a
declared set of facts, so a misspelt fact or a string compared with a number is refused when the
rule is saved, with the position of the problem. Example::

    paid_amount > 5000 and province in ["新疆", "西藏"] and not cod
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

import rule_engine

from oms.core.errors import FieldError, ValidationFailed


class FactType(Enum):
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    STRINGS = "list of strings"
    DATETIME = "datetime"


_DATA_TYPES: dict[FactType, Any] = {
    FactType.NUMBER: rule_engine.DataType.FLOAT,
    FactType.STRING: rule_engine.DataType.STRING,
    FactType.BOOLEAN: rule_engine.DataType.BOOLEAN,
    FactType.STRINGS: rule_engine.DataType.ARRAY(rule_engine.DataType.STRING),
    FactType.DATETIME: rule_engine.DataType.DATETIME,
}


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    description: str


@dataclass
class RuleParseError(ValidationFailed):
    """A condition that cannot be saved: ``position`` is the 0-based character offset of the problem."""

    code: str = "rule_invalid"
    position: int | None = None


def _context(facts: tuple[Fact, ...]) -> rule_engine.Context:
    types = {fact.name: _DATA_TYPES[fact.type] for fact in facts}
    return rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types), default_timezone="utc")


@lru_cache(maxsize=1024)
def _compile(text: str, facts: tuple[Fact, ...]) -> rule_engine.Rule:
    return rule_engine.Rule(text, context=_context(facts))


def compile_condition(text: str, facts: Sequence[Fact], *, field: str = "condition") -> rule_engine.Rule:
    """Parse and type-check a condition, or raise RuleParseError naming where and what is wrong."""
    source = (text or "").strip()
    if not source:
        raise RuleParseError("The condition is empty.", details=[FieldError(field, "Write a condition.", "required")])
    try:
        return _compile(source, tuple(facts))
    except rule_engine.RuleSyntaxError as exc:
        position = exc.token.lexpos if exc.token is not None else len(source)
        message = f"Syntax error at character {position + 1}: {exc.message}"
    except rule_engine.SymbolResolutionError as exc:
        position = source.find(exc.symbol_name)
        known = ", ".join(sorted(f.name for f in facts))
        message = f"Unknown fact {exc.symbol_name!r} at character {position + 1}; known facts: {known}"
        if exc.suggestion:
            message += f" (did you mean {exc.suggestion!r}?)"
    except rule_engine.EngineError as exc:
        position = None
        message = f"The condition is not valid: {exc.message}"
    raise RuleParseError(
        message, details=[FieldError(field, message, "rule_invalid")], position=position, extra={"position": position}
    )


def _coerce(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise ValueError("facts carry aware datetimes only")
    return value


class PreparedFacts(dict[str, Any]):
    """Facts already in the evaluator's types: prepare once per order, evaluate many rules."""


def prepare_facts(facts: Mapping[str, Any]) -> PreparedFacts:
    if isinstance(facts, PreparedFacts):
        return facts
    return PreparedFacts({name: _coerce(value) for name, value in facts.items()})


def condition_matches(rule: rule_engine.Rule, facts: Mapping[str, Any]) -> bool:
    """Evaluate a compiled condition against one order's facts (prepared or not)."""
    return bool(rule.matches(prepare_facts(facts)))


def _symbols(node: Any, out: set[str]) -> bool:
    """Collect the fact names a condition's syntax tree reads; False when it reads a built-in ($now…)."""
    from rule_engine.ast import ASTNodeBase, SymbolExpression

    if isinstance(node, SymbolExpression):
        out.add(node.name)
        return node.scope is None
    if isinstance(node, list | tuple):
        return all(_symbols(x, out) for x in node)
    if isinstance(node, dict):
        return all(_symbols(k, out) and _symbols(v, out) for k, v in node.items())
    if not isinstance(node, ASTNodeBase):
        return True
    names = set(getattr(node, "__dict__", {}))
    for cls in type(node).__mro__:
        names.update(getattr(cls, "__slots__", ()))
    return all(_symbols(getattr(node, name, None), out) for name in sorted(names - {"context"}))


@lru_cache(maxsize=1024)
def condition_symbols(rule: rule_engine.Rule) -> tuple[str, ...] | None:
    """The names a compiled condition reads (facts, and local names of comprehensions, which do no harm),
    or None when it reads a built-in such as ``$now``, whose value is not in the facts."""
    out: set[str] = set()
    return tuple(sorted(out)) if _symbols(rule.statement, out) else None


_MISSING = object()


class ConditionMemo:
    """Evaluate conditions for a batch of orders once per distinct combination of the facts each condition
    reads: ``has_remark`` has two answers however many orders there are. Same verdicts as
    `condition_matches`; a condition reading built-ins, or unhashable values, is evaluated every time."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], bool] = {}

    def matches(self, rule: rule_engine.Rule, facts: Mapping[str, Any]) -> bool:
        prepared = prepare_facts(facts)
        names = condition_symbols(rule)
        if names is None:
            return condition_matches(rule, prepared)
        key = (rule, *(prepared.get(n, _MISSING) for n in names))
        try:
            return self._seen[key]
        except KeyError:
            verdict = self._seen[key] = condition_matches(rule, prepared)
            return verdict
        except TypeError:
            return condition_matches(rule, prepared)
