"""One way the tests write a campaign config: sections as dicts → a TOML file.

The fake campaigns of the test helpers (``_fakes``, ``_fidelity_fakes``, ``_sleep_sim``)
differ only in their sections' values, so each builds dicts and :func:`write_campaign` writes
them. ``None`` values are left out (the config's default applies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["dumps", "merge", "write_campaign"]

#: sections in the order a reader expects them
ORDER = ("campaign", "pool", "simulator", "fidelity", "surrogate", "compression",
         "acquisition", "executor")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string is a JSON string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {v!r}")


def dumps(sections: dict[str, dict[str, Any]]) -> str:
    """TOML text of ``{section: {key: value}}`` (one level of sub-tables, e.g. a student)."""
    out: list[str] = []
    for name in sorted(sections, key=lambda s: (ORDER.index(s) if s in ORDER else 99, s)):
        table = sections[name]
        plain = {k: v for k, v in table.items() if v is not None and not isinstance(v, dict)}
        out.append(f"[{name}]")
        out += [f"{k} = {_value(v)}" for k, v in plain.items()]
        for k, sub in table.items():
            if isinstance(sub, dict):
                out.append(f"[{name}.{k}]")
                out += [f"{kk} = {_value(vv)}" for kk, vv in sub.items() if vv is not None]
        out.append("")
    return "\n".join(out)


def merge(base: dict[str, dict[str, Any]],
          more: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """``base`` with ``more``'s keys added or replaced, section by section."""
    out = {k: dict(v) for k, v in base.items()}
    for name, table in (more or {}).items():
        out.setdefault(name, {}).update(table)
    return out


def write_campaign(folder: Path, sections: dict[str, dict[str, Any]],
                   more: dict[str, dict[str, Any]] | None = None,
                   name: str = "campaign.toml") -> Path:
    """Write ``sections`` (updated with ``more``) to ``folder / name``; returns the path."""
    path = folder / name
    path.write_text(dumps(merge(sections, more)))
    return path
