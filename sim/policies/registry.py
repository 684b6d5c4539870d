"""The policy registry: built-in names, dotted paths and the ``poolsim.policies`` entry points.

A policy is found, in this order, by a ``module.path:ClassName`` (imported), by a name registered
with ``@register`` (the built-ins), or by the name of an entry point in the group
``poolsim.policies`` (an installed plug-in package; only that entry point is loaded).
"""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar

from sim.policies.base import Policy, PullPolicy, PushPolicy

_REGISTRY: dict[str, type[Policy]] = {}
P = TypeVar("P", bound=type[Policy])

ENTRY_POINT_GROUP = "poolsim.policies"


class PolicyError(ValueError):
    """A policy name, class or parameter that cannot be used."""


def register(cls: P) -> P:
    """Class decorator: register a policy under its ``name``."""
    if not cls.name:
        raise PolicyError(f"{cls.__qualname__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def available() -> dict[str, type[Policy]]:
    """Every registered policy (built-in and entry points), by name.

    Raises PolicyError naming the first entry point that cannot be loaded or is not a policy.
    """
    _load_builtins()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            _REGISTRY[ep.name] = _load_entry_point(ep)
    return dict(sorted(_REGISTRY.items()))


def resolve(name: str) -> type[Policy]:
    """The policy class for a registry name or a ``module.path:ClassName``."""
    _load_builtins()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise PolicyError(f"cannot import module '{module_name}': {exc}") from None
        cls = getattr(module, attr, None)
        if cls is None:
            raise PolicyError(f"module '{module_name}' has no attribute '{attr}'")
        _check_class(cls, name)
        return cls  # type: ignore[no-any-return]
    if name in _REGISTRY:
        return _REGISTRY[name]
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        cls = _load_entry_point(ep)
        _REGISTRY[name] = cls
        return cls
    known = sorted(_REGISTRY)
    raise PolicyError(
        f"unknown policy '{name}'; available: {', '.join(known)} (or give 'module.path:ClassName'"
        " or install a plug-in; `poolsim policies` lists every policy)"
    )


def make_policy(name: str, params: dict[str, Any]) -> Policy:
    """Instantiate a policy with its parameters; errors say which parameter is wrong."""
    cls = resolve(name)
    try:
        return cls(**params)
    except PolicyError as exc:
        raise PolicyError(f"policy '{name}': {exc}") from None
    except TypeError as exc:
        raise PolicyError(f"policy '{name}': bad parameters {params}: {exc}") from None
    except Exception as exc:  # a plug-in's own checks
        raise PolicyError(f"policy '{name}': cannot create it with {params}: {exc}") from None


def _load_entry_point(ep: EntryPoint) -> type[Policy]:
    try:
        cls = ep.load()
    except Exception as exc:
        raise PolicyError(f"entry point '{ep.name}' ({ep.value}) failed to load: {exc}") from None
    _check_class(cls, f"{ep.value} (entry point '{ep.name}')")
    return cls  # type: ignore[no-any-return]


def _check_class(cls: Any, where: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, PushPolicy | PullPolicy)):
        raise PolicyError(
            f"'{where}' is not a poolsim policy class (subclass PushPolicy or PullPolicy)"
        )
    if issubclass(cls, PushPolicy) and cls.select is PushPolicy.select:
        raise PolicyError(f"'{where}' is a push policy but does not implement select()")


def _load_builtins() -> None:
    importlib.import_module("sim.policies.builtin")  # cached after the first import
