"""Microsoft 365 object inventories (generated or imported)."""

from sim.workload.inventory import read_inventory_csv
from sim.workload.objects import ObjectTable, generate_objects, tenant_objects

__all__ = ["ObjectTable", "generate_objects", "read_inventory_csv", "tenant_objects"]
