"""Column lists for the raw SQL baselines, derived from the models so a baseline cannot fall behind the schema.

A baseline names the columns it fills; every other column of the table gets what the ORM would write for a
field left unset — its default, "" for text, NULL where allowed — or the database's own (serial ids,
``db_default``). A column with none of these (a NOT NULL number, key or timestamp the baseline does not fill)
stops the benchmark before it starts, naming the table and the column, instead of failing halfway with a
``NotNullViolation``. A column the table does not have stops it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawTable:
    """Write rows of ``table``: ``filled`` columns from the caller, then ``defaults`` for the rest."""

    table: str
    filled: tuple[str, ...]
    default_columns: tuple[str, ...]
    defaults: tuple[Any, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.filled + self.default_columns

    def row(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(values) != len(self.filled):
            raise ValueError(f"{self.table}: {len(values)} values for {len(self.filled)} columns")
        return values + self.defaults


def raw_table(table: str, filled: tuple[str, ...]) -> RawTable:
    """The RawTable for ``table`` with the baseline filling ``filled``; raises if the model and the list disagree."""
    from django.apps import apps
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    models = [m for m in apps.get_models() if m._meta.db_table == table]
    if not models:
        raise LookupError(f"no model has the table {table}")
    fields = {f.column: f for f in models[0]._meta.local_concrete_fields}
    unknown = [c for c in filled if c not in fields]
    if unknown:
        raise LookupError(f"{table} has no column(s) {', '.join(unknown)}")
    columns: list[str] = []
    values: list[Any] = []
    missing: list[str] = []
    for column, field in fields.items():
        if column in filled:
            continue
        if field.primary_key or field.db_default is not NOT_PROVIDED:
            continue  # the database fills it (sequence, DEFAULT)
        default = (
            None if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else field.get_default()
        )
        if default is None and not field.null:
            missing.append(column)
            continue
        columns.append(column)
        values.append(field.get_db_prep_save(default, connection))
    if missing:
        raise LookupError(
            f"the raw baseline writes {table} without the NOT NULL column(s) {', '.join(missing)}, which have no "
            "default: fill them in the baseline"
        )
    return RawTable(table, filled, tuple(columns), tuple(values))


def insert_select(
    table: str, filled: tuple[str, ...], select: str, rest: str, params: tuple[Any, ...] = ()
) -> tuple[str, list[Any]]:
    """``INSERT INTO table (…) SELECT select, <defaults> rest`` for a set-based fixture: ``select`` gives the
    ``filled`` columns in order, the models' defaults the others (as in raw_table). ``params`` fill the %s of
    ``select`` then of ``rest``; returns the SQL and its parameters."""
    spec = raw_table(table, filled)
    n_select = select.count("%s")
    defaults = ", ".join(["%s"] * len(spec.defaults))
    sql = f"INSERT INTO {table} ({', '.join(spec.columns)}) SELECT {select}{', ' if defaults else ''}{defaults} {rest}"
    return sql, [*params[:n_select], *spec.defaults, *params[n_select:]]


def copy_select(table: str, overrides: dict[str, str], source: str, *, alias: str = "s") -> str:
    """``INSERT INTO table (every column) SELECT …`` copying the rows ``source`` yields under ``alias``, every
    column as it is except ``overrides`` (column → SQL expression); ``id`` is left to the sequence unless
    overridden. The column list comes from the model, so the copy keeps up with the schema."""
    from django.apps import apps

    models = [m for m in apps.get_models() if m._meta.db_table == table]
    if not models:
        raise LookupError(f"no model has the table {table}")
    columns = [f.column for f in models[0]._meta.local_concrete_fields if f.column != "id" or "id" in overrides]
    unknown = sorted(set(overrides) - set(columns))
    if unknown:
        raise LookupError(f"{table} has no column(s) {', '.join(unknown)}")
    exprs = [overrides.get(c, f"{alias}.{c}") for c in columns]
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(exprs)} {source}"
