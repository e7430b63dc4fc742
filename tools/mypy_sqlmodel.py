"""mypy plugin: give SQLModel's two untyped corners the types they have at run time.

1. A `table=True` model's field read from the class is a SQLAlchemy attribute:
   `Contact.workspace_id == ws`, `Contact.id.in_(ids)` and `Contact.created_at.desc()` are
   SQL expressions at run time (SQLModel instruments each field), but the class body
   declares the fields with their Python types (`int`, `datetime | None`) so that instances
   type-check. Here class access is typed `InstrumentedAttribute[T]`; instance access stays
   `T`. A primary key declared `int | None` (None until the row is flushed) is never NULL
   in SQL: read from the class it is `InstrumentedAttribute[int]`.
2. `sqlmodel.Session.execute` is declared to return `Result[Any, ...]` whatever it runs
   (SQLModel wants `exec()` used instead); here it returns what SQLAlchemy's own overloads
   say: `Result[int]` for `select(func.count())`, and a `CursorResult` (which has
   `rowcount`) for an UPDATE or DELETE that returns no rows.

Without it every query in the services is a type error or an `Any`; with it mypy checks
the queries as SQLAlchemy types them. Loaded by `[tool.mypy] plugins` in pyproject.toml.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import AssignmentStmt, CallExpr, MemberExpr, NameExpr, TypeInfo, Var
from mypy.plugin import AttributeContext, ClassDefContext, MethodContext, Plugin
from mypy.types import AnyType, Instance, NoneType, Type, TypeOfAny, UnionType, get_proper_type

SQLMODEL = "sqlmodel.main.SQLModel"
EXECUTE = "sqlmodel.orm.session.Session.execute"
ATTRIBUTE = "sqlalchemy.orm.attributes.InstrumentedAttribute"
RETURNS_ROWS = "sqlalchemy.sql.selectable.TypedReturnsRows"
DML = "sqlalchemy.sql.dml.UpdateBase"
RESULT = "sqlalchemy.engine.result.Result"
CURSOR_RESULT = "sqlalchemy.engine.cursor.CursorResult"
# Kept in the TypeInfo's metadata, which mypy's incremental cache keeps (a class's keywords
# are not kept).
MARK = "cloodot_sqlmodel_table"


class SQLModelPlugin(Plugin):
    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        return _mark_table if fullname == SQLMODEL else None

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        class_name, _, name = fullname.rpartition(".")
        info = self._info(class_name)
        attribute = self._info(ATTRIBUTE)
        if info is None or attribute is None or not any(MARK in b.metadata for b in info.mro):
            return None
        field = info.get(name)
        if field is None or not isinstance(field.node, Var) or field.node.is_classvar:
            return None
        keys = {key for b in info.mro for key in b.metadata.get(MARK, {}).get("keys", [])}
        return functools.partial(_instrumented, attribute, name in keys)

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname != EXECUTE:
            return None
        returns_rows = self._info(RETURNS_ROWS)
        result, cursor_result = self._info(RESULT), self._info(CURSOR_RESULT)
        if returns_rows is None or result is None or cursor_result is None:
            return None
        return functools.partial(_executed, returns_rows, result, cursor_result)

    def get_additional_deps(self, file: object) -> list[tuple[int, str, int]]:
        # The types named above must be loaded wherever a model is queried.
        return [
            (10, module, -1)
            for module in (
                "sqlalchemy.orm.attributes",
                "sqlalchemy.sql.selectable",
                "sqlalchemy.sql.dml",
                "sqlalchemy.engine.result",
                "sqlalchemy.engine.cursor",
            )
        ]

    def _info(self, fullname: str) -> TypeInfo | None:
        symbol = self.lookup_fully_qualified(fullname)
        node = symbol.node if symbol is not None else None
        return node if isinstance(node, TypeInfo) else None


def _mark_table(ctx: ClassDefContext) -> None:
    table = ctx.cls.keywords.get("table")
    if isinstance(table, NameExpr) and table.fullname == "builtins.True":
        ctx.cls.info.metadata[MARK] = {"table": True, "keys": _primary_keys(ctx)}


def _primary_keys(ctx: ClassDefContext) -> list[str]:
    """The fields declared `= Field(..., primary_key=True)`."""
    keys = []
    for statement in ctx.cls.defs.body:
        if not isinstance(statement, AssignmentStmt) or not isinstance(statement.rvalue, CallExpr):
            continue
        call = statement.rvalue
        if not isinstance(call.callee, NameExpr | MemberExpr) or call.callee.name != "Field":
            continue
        for name, value in zip(call.arg_names, call.args, strict=True):
            if name == "primary_key" and isinstance(value, NameExpr) and value.name == "True":
                keys += [lv.name for lv in statement.lvalues if isinstance(lv, NameExpr)]
    return keys


def _instrumented(attribute: TypeInfo, primary_key: bool, ctx: AttributeContext) -> Type:
    if ctx.is_lvalue:
        return ctx.default_attr_type
    column_type = ctx.default_attr_type
    declared = get_proper_type(column_type)
    if primary_key and isinstance(declared, UnionType):
        items = [i for i in declared.items if not isinstance(get_proper_type(i), NoneType)]
        column_type = UnionType.make_union(items)
    return Instance(attribute, [column_type])


def _executed(
    returns_rows: TypeInfo,
    result: TypeInfo,
    cursor_result: TypeInfo,
    ctx: MethodContext,
) -> Type:
    """SQLAlchemy's overloads, in their order: rows of known types, then DML, then any."""
    statement = get_proper_type(ctx.arg_types[0][0]) if ctx.arg_types[0] else None
    if not isinstance(statement, Instance):
        return ctx.default_return_type
    if statement.type.has_base(RETURNS_ROWS):
        rows = map_instance_to_supertype(statement, returns_rows)
        return Instance(result, rows.args)
    if statement.type.has_base(DML):
        return _untyped(cursor_result, ctx.default_return_type)
    return ctx.default_return_type


def _untyped(info: TypeInfo, default: Type) -> Type:
    """`info` with the (untyped) row arguments of SQLModel's declared `Result`."""
    declared = get_proper_type(default)
    if isinstance(declared, Instance):
        return Instance(info, declared.args)
    return Instance(info, [AnyType(TypeOfAny.special_form)])


def plugin(version: str) -> type[Plugin]:
    return SQLModelPlugin
