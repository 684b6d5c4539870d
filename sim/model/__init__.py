"""The SimPy world: proxies, pools, repositories, tenants, jobs and capacity sharing."""

from sim.model.world import World

__all__ = ["World"]
