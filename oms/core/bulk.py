"""Bulk writes for the batch services: one statement for any number of rows, with a constant number of
parameters.

Django's ``bulk_create`` sends one placeholder per value and ``bulk_update`` one ``CASE WHEN`` branch per row
and field; for the thousands of rows a pipeline batch writes, building, quoting and parsing those is most of
the cost. On PostgreSQL these helpers send one array per column instead (``INSERT … SELECT FROM unnest(…)``,
``UPDATE … FROM unnest(…)``); elsewhere they fall back to Django's own bulk methods, so the same rows land
either way. Values go through each field's ``pre_save`` (``auto_now``/``auto_now_add``) and
``get_db_prep_value``, like Django's own writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Q
from django.db.models.fields import AutoFieldMixin
from django.db.models.lookups import In
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: Any) -> str:
    """One element of a PostgreSQL array literal."""
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dt.datetime | dt.date):
        return _quote(value.isoformat())
    return _quote(str(value))


def _column(field: models.Field[Any, Any], values: list[Any]) -> tuple[str, str]:
    """The array type and the array literal of one column, ready for ``unnest``: one text parameter,
    however many rows (quoting a Python list element by element is far slower)."""
    db_type = field.db_type(connection) or "text"
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        values = [None if v is None else json.dumps(v, cls=encoder, ensure_ascii=False) for v in values]
        db_type = "jsonb"
    else:
        target = field.target_field if isinstance(field, models.ForeignKey) else field
        if isinstance(target, models.CharField | models.TextField):
            # varchar(n)[] would cut long values silently; the column itself refuses them.
            db_type = "text"
            if all(type(v) is str for v in values):
                return db_type, "{" + ",".join(map(_quote, values)) + "}"
        elif isinstance(target, models.IntegerField) and not isinstance(target, models.BooleanField):
            if all(type(v) is int or v is None for v in values):
                return db_type, "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
        elif not isinstance(target, models.BooleanField | models.DateTimeField):
            values = [field.get_db_prep_value(v, connection, prepared=False) for v in values]
    return db_type, "{" + ",".join(map(_literal, values)) + "}"


def bulk_insert(objs: Sequence[M], *, returning: bool = False) -> Sequence[M]:
    """Insert ``objs`` (all of one model, primary keys unset) in one statement; with ``returning`` their
    primary keys are set, in order."""
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, AutoFieldMixin))]
    columns: list[str] = []
    casts: list[str] = []
    params: list[str] = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values = [field.pre_save(o, add=True) for o in objs]
        else:
            values = [getattr(o, field.attname) for o in objs]
        cast, prepared = _column(field, values)
        columns.append(connection.ops.quote_name(field.column))
        casts.append(f"%s::{cast}[]")
        params.append(prepared)
    # Names come from the model; every value is a parameter.
    table = connection.ops.quote_name(meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(casts)})"  # noqa: S608
    if returning:
        sql += f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def bulk_set(objs: Sequence[M], fields: Sequence[str]) -> None:
    """Write ``fields`` of saved ``objs`` (all of one model), each row its own values, in one statement."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, list(fields))
        return
    meta = model._meta
    targets: list[models.Field[Any, Any]] = []
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, models.Field), f"{name} is not a concrete field"
        targets.append(field)
    assert meta.pk is not None
    pk_cast, pks = _column(meta.pk, [o.pk for o in objs])
    casts = [f"%s::{pk_cast}[]"]
    params: list[str] = [pks]
    for field in targets:
        cast, prepared = _column(field, [getattr(o, field.attname) for o in objs])
        casts.append(f"%s::{cast}[]")
        params.append(prepared)
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    names = [f"c{i}" for i in range(len(targets))]
    sets = ", ".join(f"{qn(str(f.column))} = v.{n}" for f, n in zip(targets, names, strict=True))
    # Names come from the model; every value is a parameter.
    source = f"unnest({', '.join(casts)}) AS v(pk, {', '.join(names)})"
    sql = f"UPDATE {table} SET {sets} FROM {source} WHERE {table}.{qn(meta.pk.column)} = v.pk"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@models.Field.register_lookup
class InArray(In):
    """``field__in_array=ids``: ``IN`` with one array parameter on PostgreSQL (``= ANY('{…}'::bigint[])``),
    however many integers; elsewhere the plain ``IN``. A batch's thousands of ids otherwise cost one
    placeholder each to build, quote and parse."""

    lookup_name = "in_array"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Sequence[Any]]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        values = [v for v in self.rhs if v is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, "{" + ",".join(str(int(v)) for v in values) + "}"]


models.ForeignObject.register_lookup(InArray)  # foreign keys keep their own lookup table


def ids_in(field: str, ids: Iterable[int]) -> Q:
    """``Q(<field>__in_array=ids)``: filter on many integer ids with one parameter (see `InArray`)."""
    return Q(**{f"{field}__in_array": list(ids)})


def bulk_insert_columns(model: type[models.Model], count: int, values: dict[str, Any]) -> None:
    """Insert ``count`` rows of ``model`` given column by column, without a model instance per row: each
    entry of ``values`` (field name or attname → a list of ``count`` values, or one value that every row
    takes) — foreign keys as ids; fields left out take their default (``auto_now``/``auto_now_add``: now).
    One statement on PostgreSQL; elsewhere the instances are built and ``bulk_create`` writes them."""
    if count <= 0:
        return
    meta = model._meta
    unknown = set(values) - {f.name for f in meta.concrete_fields} - {f.attname for f in meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**{k: (v[i] if isinstance(v, list) else v) for k, v in values.items()}) for i in range(count)]
        )
        return
    qn = connection.ops.quote_name
    columns: list[str] = []
    selects: list[str] = []
    arrays: list[str] = []
    casts: list[str] = []
    constants: list[Any] = []
    for field in meta.concrete_fields:
        if field.primary_key and isinstance(field, AutoFieldMixin):
            continue
        key = field.attname if field.attname in values else field.name
        if key in values:
            value = values[key]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = timezone.now()
        else:
            value = field.get_default()
        columns.append(qn(field.column))
        if isinstance(value, list):
            assert len(value) == count, f"{key}: {len(value)} values for {count} rows"
            cast, literal = _column(field, value)
            selects.append(f"v.c{len(arrays)}")
            casts.append(f"%s::{cast}[]")
            arrays.append(literal)
        else:
            cast, literal = _column(field, [value])
            selects.append(f"(%s::{cast}[])[1]")
            constants.append(literal)
    names = ", ".join(f"c{i}" for i in range(len(arrays)))
    source = f"unnest({', '.join(casts)}) AS v({names})" if arrays else f"generate_series(1, {int(count)})"
    # Names come from the model; every value is a parameter.
    sql = f"INSERT INTO {qn(meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(selects)} FROM {source}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*constants, *arrays])
