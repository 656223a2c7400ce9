"""Typed readers for config values: each names the ``section.key`` it reads in its errors.

A config table arrives as plain TOML data (str, int, float, bool, list, dict). These helpers
convert one value at the boundary (STYLE "fix conventions once, where inputs enter") and raise
``ValueError`` — never ``TypeError`` or ``KeyError`` — with the key and the offending value, so
every bad input becomes one clear line in the CLI.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "check_keys",
    "freeze",
    "read_bool",
    "read_choice",
    "read_float",
    "read_int",
    "read_path",
    "read_str",
    "read_str_list",
    "read_table",
    "thaw",
]

_MISSING = object()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _default(where: str, key: str, default: Any) -> Any:
    """The value of an absent key: ``default``, or a ValueError when it is required."""
    if default is _MISSING:
        raise ValueError(f"missing required key {where}.{key}")
    return default


def check_keys(where: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Reject keys of ``table`` not in ``allowed``: "unknown key 'campaign.foo'; allowed: ..."."""
    allowed = sorted(allowed)
    for key in table:
        if key not in allowed and not where:
            raise ValueError(f"unknown section [{key!s}]; allowed sections: {', '.join(allowed)}")
        if key not in allowed:
            raise ValueError(
                f"unknown key {where}.{key!s}; allowed keys in [{where}]: {', '.join(allowed)}"
            )


def read_table(where: str, data: Mapping[str, Any], key: str, *, required: bool = False
               ) -> Mapping[str, Any]:
    """A sub-table (TOML section) of ``data``; empty when absent and not required."""
    value = data.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise ValueError(f"missing section [{key}]" if not where else f"missing {where}.{key}")
        return {}
    if not isinstance(value, Mapping):
        name = f"{where}.{key}" if where else f"[{key}]"
        raise ValueError(f"{name} must be a table of keys, got {_show(value)}")
    for k in value:
        if not isinstance(k, str):
            raise ValueError(f"{where or key}: keys must be strings, got {_show(k)}")
    return value


def read_str(where: str, table: Mapping[str, Any], key: str, default: Any = _MISSING,
             *, pattern: str | None = None, what: str | None = None) -> Any:
    """A non-empty string (``default`` when absent; missing and no default -> ValueError),
    matching ``pattern`` when given (``what`` describes it in the error)."""
    value = table.get(key, default)
    if value is _MISSING:
        raise ValueError(f"missing required key {where}.{key}")
    if value is default and key not in table:
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}.{key} must be a non-empty string, got {_show(value)}")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ValueError(f"{where}.{key} = {_show(value)} "
                         + (f"is not {what}" if what else f"must match {pattern}"))
    return value


def read_str_list(where: str, table: Mapping[str, Any], key: str, *, pattern: str,
                  what: str) -> tuple[str, ...]:
    """A list of strings each matching ``pattern`` (integers are taken as their digits);
    empty when absent. The error names the item: ``executor.gpus[1] = 'x' is not <what>``."""
    value = table.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{where}.{key} must be a list of strings, got {_show(value)}")
    out = []
    for i, item in enumerate(value):
        item = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if not isinstance(item, str) or not re.fullmatch(pattern, item):
            raise ValueError(f"{where}.{key}[{i}] = {_show(item)} is not {what}")
        out.append(item)
    return tuple(out)


def read_choice(where: str, table: Mapping[str, Any], key: str, choices: Iterable[str],
                default: Any = _MISSING) -> Any:
    """A string from ``choices``; the error lists them."""
    choices = sorted(choices)
    value = read_str(where, table, key, default)
    if key in table and value not in choices:
        raise ValueError(f"{where}.{key} = {_show(value)} is not one of: {', '.join(choices)}")
    return value


def read_int(where: str, table: Mapping[str, Any], key: str, default: Any = _MISSING,
             *, minimum: int | None = None) -> Any:
    """An integer (booleans and floats are refused) not below ``minimum``."""
    if key not in table:
        return _default(where, key, default)
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}.{key} must be an integer, got {_show(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}.{key} must be >= {minimum}, got {value}")
    return value


def read_float(where: str, table: Mapping[str, Any], key: str, default: Any = _MISSING,
               *, minimum: float | None = None, maximum: float | None = None) -> Any:
    """A finite real number (an int is accepted) within ``[minimum, maximum]``."""
    if key not in table:
        return _default(where, key, default)
    return check_float(f"{where}.{key}", table[key], minimum=minimum, maximum=maximum)


def check_float(name: str, value: Any, *, minimum: float | None = None,
                maximum: float | None = None) -> float:
    """``value`` as a finite float in range, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {_show(value)}")
    try:
        out = float(value)
    except OverflowError:
        raise ValueError(f"{name} = {_show(value)} is too large") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return out


def read_bool(where: str, table: Mapping[str, Any], key: str, default: bool) -> bool:
    """A TOML boolean (``true``/``false``; strings and numbers are refused)."""
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{where}.{key} must be true or false, got {_show(value)}")
    return value


def read_path(name: str, value: Any, base_dir: Path, *, must_exist: bool = True) -> Path:
    """Resolve a user-named path against ``base_dir`` (the config file's folder).

    ``~`` is expanded; nothing else is (no environment variables, no shell). A missing file
    raises ``FileNotFoundError`` naming the key and the resolved path.
    """
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise ValueError(f"{name} must be a path string, got {_show(value)}")
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        path = base_dir / path
    path = Path(os.path.normpath(path.absolute()))
    if must_exist and not path.exists():
        raise FileNotFoundError(f"{name}: no such file {str(path)!r} (from {value!r})")
    return path


def freeze(name: str, value: Any) -> Any:
    """Deep-freeze TOML data for a frozen dataclass: dict -> read-only mapping, list -> tuple."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{name}: keys must be strings, got {_show(k)}")
            out[k] = freeze(f"{name}.{k}", v)
        return MappingProxyType(out)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(f"{name}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value is None or isinstance(value, (str, int, float, bool, Path)):
        return value
    raise ValueError(f"{name} has an unsupported value {_show(value)} (use TOML data)")


def thaw(value: Any) -> Any:
    """Inverse of :func:`freeze`: plain dicts and lists (and paths as strings) for TOML/JSON."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
