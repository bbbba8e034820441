"""The hub plugin interface and the seed's hub search string (`input_file_type:csv output_file_type:int text`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.store import search

INPUT_FILE_TYPE = "input_file_type"  # the seed's HubSearchParams
OUTPUT_FILE_TYPE = "output_file_type"


@dataclass
class Query:
    """One hub search: free-text words, file type filters, author and paging."""

    text: list[str] = field(default_factory=list)
    input_file_types: list[str] = field(default_factory=list)
    output_file_types: list[str] = field(default_factory=list)
    author: str | None = None
    statuses: list[str] = field(default_factory=list)
    per_page: int = 30
    offset: int = 0
    user: str = ""

    @classmethod
    def parse(cls, body: Any, user: str) -> Query:
        """The seed's search body; `key:value` tokens filter, the other words must all appear."""
        request = search.parse_request(body)
        query = cls(author=request.author, statuses=request.statuses, per_page=request.per_page,
                    offset=request.offset, user=str(user))
        for token in request.text:
            key, sep, value = token.partition(":")
            if sep and key == INPUT_FILE_TYPE:
                query.input_file_types.append(value)
            elif sep and key == OUTPUT_FILE_TYPE:
                query.output_file_types.append(value)
            else:
                query.text.append(token)
        return query

    def matches(self, node: dict) -> bool:
        """Does an operation pass the text and file type filters?"""
        inputs = {kind for i in node.get("inputs", []) for kind in i.get("file_types", [])}
        outputs = {o.get("file_type") for o in node.get("outputs", [])}
        return (all(kind in inputs for kind in self.input_file_types)
                and all(kind in outputs for kind in self.output_file_types)
                and search.matches_text(self.text, node.get("title", ""), node.get("description", "")))


class BaseHub:
    """A source of operations for the editor's catalog."""

    def search(self, query: Query) -> tuple[list[dict], int]:
        """Matching items (operations, or groups of them) and how many operations matched."""
        raise NotImplementedError
