"""Groups of operations, for hubs and catalogs (the seed's `plynx.node.utils` import path)."""
from __future__ import annotations

from . import Group, func_or_group_to_dict

__all__ = ["Group", "func_or_group_to_dict"]
