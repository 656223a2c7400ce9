"""Plug-in registries: kinds registered in code, plus entry points loaded on first use.

A third-party package adds a simulator (or a surrogate) without touching scoutlab by
declaring an entry point in its own ``pyproject.toml``::

    [project.entry-points."scoutlab.simulators"]
    my-md = "my_package.sim:MyMDSimulator"        # a Simulator subclass

    [project.entry-points."scoutlab.surrogates"]
    my-gp = "my_package.gp:MyGP"                  # a Surrogate subclass

After ``pip install my_package``, ``[simulator] kind = "my-md"`` works in a campaign config,
in ``scout simulate`` and in every worker process. The entry point is the *name* of the kind;
its object is the class (registered under that name), or a module/function whose import
registers the kind itself with ``register_simulator``/``register_surrogate``.

Loading is lazy: importing ``physics`` reads no entry points. Looking up a kind that is not
registered (``kind in SIMULATORS``, ``SIMULATORS[kind]``) loads only the entry point of that
name; listing the registry (iterating it, as error messages and ``--help`` do) loads all of
them. A plug-in that fails to import is reported with a warning naming the entry point and
skipped, so one broken package never hides the built-in kinds. Built-in kinds win over
entry points of the same name. Entry points come from installed package metadata, never from
a config file: a config only picks among kinds that are installed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any

__all__ = ["PluginRegistry", "constructor_option_types", "constructor_options"]


def constructor_option_types(cls: type) -> dict[str, Any]:
    """The annotated type of each keyword option ``cls(...)`` takes (``typing.Any`` where a
    parameter has no annotation, or one that cannot be resolved): what a config checks a
    TOML value against (``relax = "false"`` is not a ``bool``)."""
    import inspect

    try:
        params = inspect.signature(cls, eval_str=True).parameters.values()
    except (NameError, SyntaxError, TypeError, ValueError, AttributeError):
        try:  # an annotation that names something its module does not import at run time
            params = inspect.signature(cls).parameters.values()
        except (TypeError, ValueError):
            return {}
    return {p.name: Any if p.annotation is p.empty or isinstance(p.annotation, str)
            else p.annotation
            for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def constructor_options(cls: type) -> tuple[frozenset[str], bool]:
    """Keyword names ``cls(...)`` takes, and whether it also takes ``**kwargs`` — what a config
    table may hold for a registered class (read once per class, from its signature)."""
    import inspect

    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return frozenset(), True
    names = frozenset(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                              p.KEYWORD_ONLY))
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


class PluginRegistry(dict):
    """A ``kind -> class`` dictionary that also draws on the entry point group ``group``.

    Args:
        group: the entry point group (``"scoutlab.simulators"``).
        what: what a kind names, for messages (``"simulator"``).
        adopt: ``(kind, obj) -> None``: registers an object an entry point loaded when that
            did not register ``kind`` itself (checks its type, then calls :meth:`add`).
    """

    def __init__(self, group: str, what: str, adopt: Callable[[str, Any], None]) -> None:
        super().__init__()
        self.group = group
        self.what = what
        self._adopt = adopt
        self._tried: set[str] = set()
        self._all_loaded = False
        self._eps: list[metadata.EntryPoint] | None = None

    def add(self, kind: str, obj: Any) -> None:
        """Register ``obj`` under ``kind`` (a duplicate kind is a ``ValueError``)."""
        if dict.__contains__(self, kind):
            raise ValueError(f"{self.what} kind {kind!r} is already registered")
        dict.__setitem__(self, kind, obj)

    # --- entry points ---------------------------------------------------------------------
    def _entry_points(self, name: str | None = None) -> list[metadata.EntryPoint]:
        """The group's entry points (read from package metadata once per process)."""
        if self._eps is None:
            try:
                self._eps = list(metadata.entry_points(group=self.group))
            except Exception as exc:  # broken metadata of some installed distribution
                warnings.warn(f"could not read the {self.group!r} entry points: {exc}",
                              stacklevel=3)
                self._eps = []
        return [ep for ep in self._eps if name is None or ep.name == name]

    def _load(self, ep: metadata.EntryPoint) -> None:
        if ep.name in self._tried:
            return
        self._tried.add(ep.name)
        if dict.__contains__(self, ep.name):
            return  # a built-in (or an earlier registration) of that name wins
        try:
            obj = ep.load()
            if not dict.__contains__(self, ep.name):  # it did not register itself on import
                self._adopt(ep.name, obj)
        except Exception as exc:
            warnings.warn(f"{self.what} plug-in {ep.name!r} ({ep.value}, entry point group "
                          f"{self.group!r}) could not be loaded: {type(exc).__name__}: {exc}",
                          stacklevel=4)

    def _load_name(self, kind: object) -> None:
        if isinstance(kind, str) and kind not in self._tried \
                and not dict.__contains__(self, kind):
            for ep in self._entry_points(kind):
                self._load(ep)
            self._tried.add(kind)

    def load_all(self) -> None:
        """Load every entry point of the group (once)."""
        if self._all_loaded:
            return
        self._all_loaded = True
        for ep in self._entry_points():
            self._load(ep)

    # --- dictionary access that sees the plug-ins -----------------------------------------
    def __contains__(self, kind: object) -> bool:
        self._load_name(kind)
        return dict.__contains__(self, kind)

    def __getitem__(self, kind: str) -> Any:
        self._load_name(kind)
        return dict.__getitem__(self, kind)

    def get(self, kind: str, default: Any = None) -> Any:
        return self[kind] if kind in self else default

    def __iter__(self) -> Iterator[str]:
        self.load_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.load_all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self.load_all()
        return dict.keys(self)

    def values(self) -> Any:
        self.load_all()
        return dict.values(self)

    def items(self) -> Any:
        self.load_all()
        return dict.items(self)
