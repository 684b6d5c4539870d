"""The policy registry: built-in names, dotted paths and the ``poolsim.policies`` entry points."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, TypeVar

from sim.policies.base import Policy, PushPolicy

_REGISTRY: dict[str, type[Policy]] = {}
P = TypeVar("P", bound=type[Policy])

ENTRY_POINT_GROUP = "poolsim.policies"


class PolicyError(ValueError):
    """A policy name or class that cannot be used."""


def register(cls: P) -> P:
    """Class decorator: register a policy under its ``name``."""
    if not cls.name:
        raise PolicyError(f"{cls.__qualname__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def available() -> dict[str, type[Policy]]:
    """Every registered policy (built-in and entry points), by name."""
    _load_builtins()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            try:
                cls = ep.load()
            except Exception as exc:  # a broken plug-in must not hide the others
                raise PolicyError(f"entry point '{ep.name}' ({ep.value}) failed: {exc}") from None
            _check_class(cls, ep.value)
            _REGISTRY[ep.name] = cls
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
    known = available()
    if name in known:
        return known[name]
    raise PolicyError(
        f"unknown policy '{name}'; available: {', '.join(known)} (or give 'module.path:ClassName')"
    )


def make_policy(name: str, params: dict[str, Any]) -> Policy:
    """Instantiate a policy with its parameters; errors say which parameter is wrong."""
    cls = resolve(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise PolicyError(f"policy '{name}': bad parameters {params}: {exc}") from None


def _check_class(cls: Any, where: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Policy)):
        raise PolicyError(
            f"'{where}' is not a poolsim policy class (subclass PushPolicy or PullPolicy)"
        )
    if cls.kind == "push" and getattr(cls, "select", None) is PushPolicy.select:
        raise PolicyError(f"'{where}' does not implement select()")


def _load_builtins() -> None:
    importlib.import_module("sim.policies.builtin")  # cached after the first import
