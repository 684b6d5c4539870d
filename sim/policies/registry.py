"""The policy registry: built-in names, dotted paths and the ``poolsim.policies`` entry points.

A policy is found, in this order, by a ``module.path:ClassName`` (imported), by a name registered
with ``@register`` (the built-ins), or by the name of an entry point in the group
``poolsim.policies`` (an installed plug-in package; only that entry point is loaded).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar, Union, get_args, get_origin

from pydantic import ValidationError

from sim.policies.base import Policy, PullPolicy, PushPolicy

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

_REGISTRY: dict[str, type[Policy]] = {}
P = TypeVar("P", bound=type[Policy])

ENTRY_POINT_GROUP = "poolsim.policies"


Loc: TypeAlias = tuple[str | int, ...]


class PolicyError(ValueError):
    """A policy name, class or parameter that cannot be used.

    ``problems`` are (where, message) pairs, where being a path inside the scenario's policy
    entry: ``()`` for the policy itself, ``("params", "d")`` for a parameter.
    """

    def __init__(self, message: str, problems: Sequence[tuple[Loc, str]] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[tuple[Loc, str], ...] = tuple(problems) or (((), message),)

    def __reduce__(self) -> tuple[type[PolicyError], tuple[str, tuple[tuple[Loc, str], ...]]]:
        return (type(self), (str(self), self.problems))


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
    from importlib.metadata import entry_points

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
    from importlib.metadata import entry_points  # only for a name no built-in policy has

    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        cls = _load_entry_point(ep)
        _REGISTRY[name] = cls
        return cls
    known = sorted(_REGISTRY)
    raise PolicyError(
        f"unknown policy '{name}'{_did_you_mean(name, known)}; available: {', '.join(known)} "
        "(or give 'module.path:ClassName' or install a plug-in; `poolsim policies` lists every "
        "policy)"
    )


def _did_you_mean(name: str, known: list[str]) -> str:
    """The nearest policy name (a different case first, then difflib), as in the scenario
    layer's messages (``sim.scenario.suggest``, a floor above this one)."""
    import difflib

    same = [k for k in known if k.lower() == name.lower()]
    close = same or difflib.get_close_matches(name.lower(), known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def make_policy(name: str, params: dict[str, Any]) -> Policy:
    """Instantiate a policy with its parameters; errors say which parameter is wrong.

    A parameter that does not fit the policy's ``Params`` is a PolicyError with one problem per
    parameter at ``("params", <name>)``: the value given and what is allowed.
    """
    cls = resolve(name)
    try:
        return cls(**params)
    except ValidationError as exc:
        problems = [_param_problem(cls, err) for err in exc.errors()]
        text = "; ".join(f"{'.'.join(map(str, loc))}: {m}" for loc, m in problems)
        raise PolicyError(
            f"policy '{name}': {text}", [(loc, f"policy '{name}': {m}") for loc, m in problems]
        ) from None
    except PolicyError as exc:
        raise PolicyError(f"policy '{name}': {exc}") from None
    except TypeError as exc:
        raise PolicyError(f"policy '{name}': bad parameters {params}: {exc}") from None
    except Exception as exc:  # a plug-in's own checks
        raise PolicyError(f"policy '{name}': cannot create it with {params}: {exc}") from None


def _param_problem(cls: type[Policy], err: Any) -> tuple[Loc, str]:
    """(("params", name, ...), message) of one pydantic error of ``cls.Params``."""
    loc: Loc = ("params", *err["loc"])
    names = ", ".join(cls.Params.model_fields)
    if err["type"] == "extra_forbidden":
        takes = f"its parameters are: {names}" if names else "it takes no parameters"
        return loc, f"unknown parameter; {takes}"
    msg = str(err["msg"])
    inp = err.get("input")
    if isinstance(inp, str | int | float | bool) or inp is None:
        msg += f" (got {inp!r})"
    return loc, msg


@dataclass(frozen=True)
class Parameter:
    """One parameter of a policy, as ``poolsim policies`` and the reference list it."""

    name: str
    type: str
    default: Any
    description: str


def parameters(cls: type[Policy]) -> list[Parameter]:
    """The parameters of a policy: the fields of its ``Params`` or, for a plug-in written
    without one, the named keyword arguments of its own ``__init__``."""
    own_init = next(vars(c)["__init__"] for c in cls.__mro__ if "__init__" in vars(c))
    named = [
        p
        for p in list(inspect.signature(own_init).parameters.values())[1:]
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if named:
        return [
            Parameter(
                p.name,
                "" if p.annotation is p.empty else _type_name(p.annotation),
                None if p.default is p.empty else p.default,
                "",
            )
            for p in named
        ]
    return [
        Parameter(k, _type_name(f.annotation), f.get_default(), f.description or "")
        for k, f in cls.Params.model_fields.items()
    ]


def _type_name(annotation: Any) -> str:
    """``dict[str, float] | None`` for ``dict[str, Annotated[float, ...]] | None``."""
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin in (Union, UnionType):
        return " | ".join(_type_name(a) for a in args)
    if annotation is type(None):
        return "None"
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    return str(getattr(annotation, "__name__", annotation))  # a str annotation stays as written


def params_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each built-in policy's ``Params``, by policy name (entry-point
    plug-ins are left out, so the schema does not depend on what is installed)."""
    _load_builtins()
    return {
        name: cls.Params.model_json_schema(mode="validation")
        for name, cls in sorted(_REGISTRY.items())
        if cls.__module__.startswith("sim.policies.")
    }


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
