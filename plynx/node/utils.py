"""Groups of operations, for hubs and catalogs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Group:
    """A titled collection of operations and nested groups (the seed's hub groups)."""

    title: str
    items: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"_type": "Group", "title": self.title, "items": [func_or_group_to_dict(i) for i in self.items]}


def func_or_group_to_dict(item: Any) -> dict:
    """A hub item: a group, or an operation node marked `_type: Node`."""
    if isinstance(item, Group):
        return item.to_dict()
    from . import to_node

    node = to_node(item)
    location = f"{getattr(item, '__module__', '')}.{getattr(item, '__qualname__', '')}"
    node.update({"_type": "Node", "code_function_location": location})
    return node
