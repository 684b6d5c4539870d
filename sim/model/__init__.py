"""The SimPy world: proxies, pools, repositories, tenants, jobs and capacity sharing.

``World`` is loaded on first use (PEP 562), so importing a light module of this package (such as
``sim.model.schedule``) does not import SimPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.model.world import World

__all__ = ["World"]


def __getattr__(name: str) -> Any:
    if name == "World":
        from sim.model.world import World

        return World
    raise AttributeError(f"module 'sim.model' has no attribute {name!r}")
