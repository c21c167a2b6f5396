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


# The app graph, lowest layer first. An app may import its own modules and those of apps in LOWER layers,
# never one in its own layer or above (imports inside functions and under TYPE_CHECKING count too).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),  # the shared kernel: money, errors, rules, retry, actors
    ("audit",),
    ("accounts", "outbox", "catalog"),
    ("channels", "inventory"),  # stock: channel and physical (see SAME_LAYER_ALLOWED)
    ("orders",),
    ("review",),
    ("fulfillment", "connectors"),
    ("splitmerge", "reports", "aftersales"),
    ("invoicing",),  # reads orders, lineage and after-sales; after-sales hears of it only through wiring
    ("api", "console"),  # interfaces: nothing imports them
    ("wiring", "demo"),  # the top: cross-app hooks registered in one place; demo data
)
# Known and named exceptions inside one layer: channel stock and physical stock still call each other
# (reservations keep channel counters; allocation reads the shelves).
SAME_LAYER_ALLOWED = {("channels", "inventory"), ("inventory", "channels")}
LAYER_OF = {app: n for n, apps in enumerate(LAYERS) for app in apps}


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports (absolute names), with the line."""
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            yield base, node.lineno
            for alias in node.names:  # `from oms.x import module` names a module too
                yield f"{base}.{alias.name}", node.lineno


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "oms" and parts[1] in LAYER_OF else None


def layer_violations(files: dict[str, list[tuple[str, int]]]) -> list[str]:
    """``module -> imported module`` pairs that run back up (or across) the layer order."""
    found = []
    for module, imports in files.items():
        source = _app(module)
        if source is None:
            continue
        for target_module, line in imports:
            target = _app(target_module)
            if target is None or target == source or (source, target) in SAME_LAYER_ALLOWED:
                continue
            if LAYER_OF[target] >= LAYER_OF[source]:
                found.append(f"{module}:{line} imports {target_module} ({source} may not import {target})")
    return sorted(set(found))


def _source_imports() -> dict[str, list[tuple[str, int]]]:
    return {_module_of(p): list(_imports(p)) for p in _source_files()}


def test_every_app_has_a_layer() -> None:
    apps = {p.parent.name for p in OMS.glob("*/apps.py")}
    assert apps - set(LAYER_OF) == set()


def test_no_import_runs_back_up_the_app_layers() -> None:
    assert layer_violations(_source_imports()) == []


def test_the_layer_check_sees_an_import_running_up() -> None:
    """Not vacuous: orders importing fulfillment, or core importing an app, is reported; the reverse is not."""
    files = {
        "oms.orders.models": [("oms.fulfillment.models", 3)],
        "oms.core.bulk": [("oms.orders.models", 5)],
        "oms.fulfillment.services.x": [("oms.orders.models", 7)],
    }
    assert [v.split(" ")[0] for v in layer_violations(files)] == ["oms.core.bulk:5", "oms.orders.models:3"]


def _imports_django(imports: list[tuple[str, int]]) -> bool:
    return any(name == "django" or name.startswith("django.") for name, _line in imports)


def test_domain_modules_import_no_django_not_even_through_another_module() -> None:
    """A module under any ``domain/`` is pure Python: neither it nor any project module it reaches imports
    Django."""
    imports = _source_imports()
    offenders = []
    for module in imports:
        if ".domain" not in module:
            continue
        seen: set[str] = set()
        todo = [module]
        while todo:
            current = todo.pop()
            if current in seen or current not in imports:
                continue
            seen.add(current)
            if _imports_django(imports[current]):
                offenders.append(f"{module} (through {current})" if current != module else module)
                break
            todo += [name for name, _line in imports[current] if name.startswith("oms.")]
    assert offenders == []
