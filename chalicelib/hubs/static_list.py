"""The static-list hub: groups of operations defined in a python module (the demo operations)."""
from __future__ import annotations

import copy
from typing import Any

from chalicelib.domain import config
from chalicelib.domain.enums import NodeRunningStatus, NodeStatus

from .base import BaseHub, Query

AUTHOR = "plynx"


def _prepare(item: dict) -> dict:
    if item.get("_type") == "Group":
        return dict(item, items=[_prepare(sub) for sub in item["items"]])
    defaults = {"node_status": NodeStatus.READY, "node_running_status": NodeRunningStatus.CREATED,
                "author": AUTHOR, "parent_node_id": None, "successor_node_id": None,
                "x": 0, "y": 0, "starred": False, "_readonly": True}
    return {**defaults, **item}


def _filter(items: list[dict], query: Query) -> tuple[list[dict], int]:
    kept, count = [], 0
    for item in items:
        if item.get("_type") == "Group":
            sub, sub_count = _filter(item["items"], query)
            if sub:
                kept.append(dict(item, items=sub))
                count += sub_count
        elif query.matches(item) and (query.author is None or item.get("author") == query.author):
            kept.append(item)
            count += 1
    return kept, count


class StaticListHub(BaseHub):
    """Serves the operations and groups listed in `list_module` (a dotted path to a list)."""

    def __init__(self, list_module: str, **_: Any) -> None:
        from plynx.node.utils import func_or_group_to_dict  # the python API serialises the functions

        collection = config.load_class(list_module)
        self.items = [_prepare(func_or_group_to_dict(item)) for item in collection]
        self.by_id: dict[str, dict] = {}
        self._index(self.items)

    def _index(self, items: list[dict]) -> None:
        for item in items:
            if item.get("_type") == "Group":
                self._index(item["items"])
            else:
                self.by_id[item["_id"]] = item

    def search(self, query: Query) -> tuple[list[dict], int]:
        kept, count = _filter(self.items, query)
        return copy.deepcopy(kept[query.offset: query.offset + query.per_page]), count
