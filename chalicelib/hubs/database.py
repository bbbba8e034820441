"""The database hub: approved (and deprecated, still usable) operations stored through the API, newest first."""
from __future__ import annotations

from typing import Any

from chalicelib.api import library
from chalicelib.domain.enums import BaseNodeNames, NodeStatus
from chalicelib.store.search import MAX_PER_PAGE

from .base import BaseHub, Query


class DatabaseHub(BaseHub):
    """Searches the operations in the `nodes` table (the seed's CollectionHub)."""

    def __init__(self, operations: list[str] | None = None, statuses: list[str] | None = None, **_: Any) -> None:
        self.operations = operations or sorted(BaseNodeNames.RUNNABLE)
        # Deprecated operations still run: listed, so the UI folds them under their newest version.
        self.statuses = statuses or [NodeStatus.READY, NodeStatus.DEPRECATED]

    def search(self, query: Query) -> tuple[list[dict], int]:
        body = {"search": " ".join(([f"author:{query.author}"] if query.author else []) + query.text),
                "status": query.statuses or self.statuses, "base_node_names": self.operations,
                "per_page": MAX_PER_PAGE}
        items, _ = library.search_nodes(body, query.user)
        matched = [dict(item, _type="Node") for item in items if query.matches(item)]
        return matched[query.offset: query.offset + query.per_page], len(matched)
