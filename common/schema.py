"""Structured inputs checked against their schema when read: results.json (the :class:`RunResults` types),
audit.json, a system description. A file of the wrong shape is one :class:`SchemaError` naming the file and
the field, never an AttributeError or a TypeError deep in the reader.

A schema is a dataclass (its type hints are the fields' types) or a mapping of field names to types; the
types are those of JSON as Python reads it: str, int, float (an int is one too), bool, None, ``list[T]``,
``dict[str, T]``, unions and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any


class SchemaError(ValueError):
    """The file is JSON of another shape than its schema; the message names the file and the field."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def _expected(hint: Any) -> str:
    if hint is Any:
        return "anything"
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_expected(arg) for arg in typing.get_args(hint))
    if dataclasses.is_dataclass(hint) or origin is dict or hint is dict:
        return "an object"
    if origin is list or hint is list:
        return "a list"
    return {type(None): "null", bool: "true/false", int: "an integer", float: "a number", str: "a string"}.get(
        hint, str(hint))


def field_problem(value: Any, hint: Any, field: str) -> str | None:
    """Where ``value`` departs from ``hint``: '<field> is X, expected Y' (None: it matches)."""
    if hint is Any:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        found = [field_problem(value, arg, field) for arg in args]
        if None in found:
            return None
        for arg, problem in zip(args, found, strict=True):  # an object or list of the wrong inside: say where
            if isinstance(value, dict) and (dataclasses.is_dataclass(arg) or typing.get_origin(arg) is dict):
                return problem
            if isinstance(value, list) and typing.get_origin(arg) is list:
                return problem
        return f"'{field}' is {_kind(value)}, expected {_expected(hint)}"
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            return f"'{field}' is {_kind(value)}, expected an object"
        return _fieldsfield_problem(_dataclass_fields(hint), value, field, closed=True)
    if origin is list or hint is list:
        if not isinstance(value, list):
            return f"'{field}' is {_kind(value)}, expected a list"
        item = (typing.get_args(hint) or (Any,))[0]
        return next((p for i, v in enumerate(value) if (p := field_problem(v, item, f"{field}[{i}]"))), None)
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            return f"'{field}' is {_kind(value)}, expected an object"
        item = (typing.get_args(hint) or (str, Any))[1]
        return next((p for k, v in value.items() if (p := field_problem(v, item, f"{field}.{k}"))), None)
    matches = {type(None): value is None, bool: isinstance(value, bool),
               int: isinstance(value, int) and not isinstance(value, bool),
               float: isinstance(value, int | float) and not isinstance(value, bool),
               str: isinstance(value, str)}.get(hint)
    if matches is None:
        raise TypeError(f"schema type {hint!r} of '{field}' is not a JSON type")
    return None if matches else f"'{field}' is {_kind(value)}, expected {_expected(hint)}"


def _dataclass_fields(cls: type) -> dict[str, tuple[Any, bool]]:
    """name -> (type, required) of a dataclass (a field with a default is optional)."""
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls)}


def _fieldsfield_problem(fields: Mapping[str, tuple[Any, bool]], data: dict, prefix: str, closed: bool) -> str | None:
    def name(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    for key, (hint, required) in fields.items():
        if key not in data:
            if required:
                return f"'{name(key)}' is missing"
            continue
        problem = field_problem(data[key], hint, name(key))
        if problem:
            return problem
    unknown = sorted(set(data) - set(fields)) if closed else []
    return f"'{name(unknown[0])}' is not a field of this file" if unknown else None


def check(data: Any, schema: type | Mapping[str, Any], source: str, closed: bool = True,
          required: tuple[str, ...] | None = None) -> dict[str, Any]:
    """``data`` (a file's parsed JSON) as ``schema`` describes it, or a SchemaError '<source>: <problem>'.

    With a mapping schema every field is optional unless named in ``required``; ``closed`` refuses fields
    the schema does not name."""
    if not isinstance(data, dict):
        raise SchemaError(f"{source}: the file holds {_kind(data)}, expected an object")
    if dataclasses.is_dataclass(schema):
        fields = _dataclass_fields(schema)  # type: ignore[arg-type]
    else:
        fields = {key: (hint, key in (required or ())) for key, hint in schema.items()}
    problem = _fieldsfield_problem(fields, data, "", closed)
    if problem:
        raise SchemaError(f"{source}: {problem}")
    return data
