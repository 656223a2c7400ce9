"""Option values against declared option types: ``relax = "false"`` is refused, not read as True.

A simulator or surrogate class declares the type of each option (``option_types()``, by
default its constructor's annotations). :func:`check_option_types` checks the TOML value of
every option of a config table against it, once, where the table enters. What TOML can hold is
checked (``bool``, ``int``, ``float``, ``str``, lists, tables, unions, ``Literal``); a type it
cannot judge (a callable, a class of a plug-in's own) accepts any value, and the class itself
decides when it is built.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import types
import typing
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

__all__ = ["check_option_types", "describe", "fits"]

#: classes whose value in a config is a string (a path, a device, a dtype name)
_STRING_LIKE = ("Path", "PurePath", "PathLike", "device", "dtype")
#: classes whose value in a config is a list of numbers
_ARRAY_LIKE = ("ndarray", "Tensor")


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_list(v: Any) -> bool:
    return isinstance(v, (list, tuple))


_SIMPLE: dict[Any, tuple[Any, str]] = {
    bool: (_is_bool, "true or false"),
    int: (_is_int, "an integer"),
    float: (_is_number, "a number"),
    str: (lambda v: isinstance(v, str), "a string"),
    type(None): (lambda v: v is None, "none"),
}


def _parts(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(tp), typing.get_args(tp)


def fits(value: Any, tp: Any) -> bool:
    """Whether a TOML value ``value`` fits type ``tp`` (``True`` for a type it cannot judge)."""
    if tp is Any or tp is object:
        return True
    if tp in _SIMPLE:
        return bool(_SIMPLE[tp][0](value))
    origin, args = _parts(tp)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (tuple,):
        if not _is_list(value):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(fits(v, a) for v, a in zip(value, args))
    if origin in (list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection):
        return _is_list(value) and all(fits(v, args[0]) for v in value) if args else \
            _is_list(value)
    if origin in (dict, cabc.Mapping, cabc.MutableMapping):
        return isinstance(value, Mapping) and (not args or all(
            fits(k, args[0]) and fits(v, args[1]) for k, v in value.items()))
    if isinstance(tp, type):
        if issubclass(tp, (PurePath, os.PathLike)) or tp.__name__ in _STRING_LIKE:
            return isinstance(value, str)
        if tp.__name__ in _ARRAY_LIKE:
            return _is_list(value)
        if tp in (list, tuple, cabc.Sequence):
            return _is_list(value)
        if tp in (dict, cabc.Mapping):
            return isinstance(value, Mapping)
    return True  # a callable, a plug-in's own class: the class decides when it is built


def describe(tp: Any) -> str:
    """What a value of type ``tp`` looks like in TOML (``"true or false"``, ``"an integer"``)."""
    if tp in _SIMPLE:
        return _SIMPLE[tp][1]
    origin, args = _parts(tp)
    if origin in (typing.Union, types.UnionType):
        shown = [describe(a) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(shown))
    if origin is typing.Literal:
        return "one of: " + ", ".join(repr(a) for a in args)
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return f"a list of {len(args)} values ({', '.join(describe(a) for a in args)})"
    if origin in (tuple, list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable,
                  cabc.Collection):
        return f"a list of {_plural(describe(args[0]))}" if args else "a list"
    if origin in (dict, cabc.Mapping, cabc.MutableMapping):
        return "a table"
    if isinstance(tp, type):
        if issubclass(tp, (PurePath, os.PathLike)) or tp.__name__ in _STRING_LIKE:
            return "a string"
        if tp.__name__ in _ARRAY_LIKE:
            return "a list of numbers"
    return getattr(tp, "__name__", str(tp))


def _plural(text: str) -> str:
    for one, many in (("an integer", "integers"), ("a number", "numbers"),
                      ("a string", "strings"), ("true or false", "true/false values")):
        if text == one:
            return many
    return text


def check_option_types(where: str, options: Mapping[str, Any], types_: Mapping[str, Any]
                       ) -> None:
    """Raise ``ValueError`` naming ``where.key``, the type wanted and the value given for the
    first option whose TOML value does not fit its declared type."""
    for key, value in options.items():
        tp = types_.get(key, Any)
        if not fits(value, tp):
            raise ValueError(f"{where}.{key} must be {describe(tp)}, got {value!r}"
                             + (" (a string: write it without quotes)"
                                if isinstance(value, str) and _unquoted_fits(value, tp) else ""))


def _unquoted_fits(text: str, tp: Any) -> bool:
    """Whether the string would fit once its quotes are dropped (``"16"``, ``"false"``)."""
    import tomllib

    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, ValueError):
        return False
    return not isinstance(value, str) and fits(value, tp)
