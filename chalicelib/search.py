"""The seed's search request: a search string (`author:NAME` plus free text), statuses and paging."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from .errors import BadRequestError

T = TypeVar("T")
MAX_PER_PAGE = 1000


@dataclass
class SearchRequest:
    author: str | None = None
    text: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    per_page: int = 20
    offset: int = 0
    lists: dict[str, list[str]] = field(default_factory=dict)


def _int(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequestError(f"`{name}` must be an integer from {low} to {high}")
    return value


def _str_list(body: dict, name: str) -> list[str]:
    value = body.get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequestError(f"`{name}` must be a string or a list of strings")
    return value


def parse_request(body: Any, extra_lists: Iterable[str] = ()) -> SearchRequest:
    """Parse and check a search body; a wrong type is a 400, not a 500."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequestError("The search body must be a JSON object")
    raw = body.get("search", "") or ""
    if not isinstance(raw, str):
        raise BadRequestError("`search` must be a string")
    try:
        tokens = shlex.split(raw)
    except ValueError as exc:
        raise BadRequestError(f"`search` is not a valid search string: {exc}") from exc
    request = SearchRequest(
        statuses=_str_list(body, "status"),
        per_page=_int(body, "per_page", 20, 1, MAX_PER_PAGE),
        offset=_int(body, "offset", 0, 0, 10**9),
        lists={name: _str_list(body, name) for name in extra_lists},
    )
    for token in tokens:
        key, sep, value = token.partition(":")
        if sep and key == "author":
            request.author = value
        else:
            request.text.append(token.lower())
    return request


def matches_text(words: list[str], *fields: str) -> bool:
    """Every free-text word appears in one of the fields, case-insensitively."""
    haystack = " ".join(f or "" for f in fields).lower()
    return all(word in haystack for word in words)


def query_listing(model: Any, listing: str, author: str | None) -> Iterable[Any]:
    """Newest-first items of a table through its author or listing index (no table scan)."""
    if author is not None:
        return model.by_author.query(author, scan_index_forward=False)
    return model.by_listing.query(listing, scan_index_forward=False)


def page(items: list[T], request: SearchRequest, render: Callable[[T], dict]) -> tuple[list[dict], int]:
    """One page of rendered items and the total count."""
    chosen = items[request.offset : request.offset + request.per_page]
    return [render(item) for item in chosen], len(items)
