"""Rules of the code's shape, checked on its syntax trees (no Django needed): what the operation log is
told, and who may import whom."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OMS = ROOT / "oms"


def _source_files() -> Iterator[Path]:
    for path in sorted(OMS.rglob("*.py")):
        parts = path.relative_to(OMS).parts
        if "tests" in parts or "migrations" in parts or path.name == "conftest.py":
            continue
        yield path


def _calls(tree: ast.AST, names: set[str]) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in names:
                yield node


def test_audit_actions_are_named_constants_never_literals_or_built_strings() -> None:
    """Every `audit_record(action=...)` names a constant of an app's `actions` module (or a variable
    holding one): a literal or an f-string there is an action name nobody can find or rename."""
    offenders: list[str] = []
    for path in _source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree, {"audit_record", "audit_record_many"}):
            for kw in call.keywords:
                if kw.arg == "action" and isinstance(kw.value, ast.Constant | ast.JoinedStr | ast.BinOp):
                    offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert offenders == []


def test_the_action_check_sees_a_literal_action() -> None:
    """The check above is not vacuous: a literal action name is found."""
    tree = ast.parse('audit_record(actor=a, action="order.intake", obj=o)\naudit_record(action=f"x.{y}")')
    found = [kw for call in _calls(tree, {"audit_record"}) for kw in call.keywords if kw.arg == "action"]
    assert [isinstance(kw.value, ast.Constant | ast.JoinedStr) for kw in found] == [True, True]
