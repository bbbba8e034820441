"""Hubs (the seed's Hub plugins): catalogs of operations, declared in the config and searched by kind."""
from __future__ import annotations

import functools
from typing import Any

from chalicelib.domain import config
from chalicelib.domain.errors import BadRequestError

from .base import BaseHub, Query

__all__ = ["BaseHub", "Query", "get_hub", "list_hubs", "search_in_hubs"]


@functools.cache
def get_hub(kind: str) -> BaseHub:
    """The hub of a kind, built once per process from its `cls` and `args`."""
    entry = config.find("hubs", kind)
    args = entry.get("args") or {}
    if not isinstance(args, dict):
        raise config.ConfigError(f"hub `{kind}`: `args` must be a mapping")
    return config.load_class(entry["cls"])(**args)


def list_hubs(workflow: str | None = None) -> list[dict]:
    """The hubs a client may search (kind, title, icon); with a workflow kind, the ones it lists."""
    entries = config.plugins("hubs")
    if workflow is not None:
        listed = config.find("workflows", workflow).get("hubs") or []
        entries = [h for h in entries if h["kind"] in listed]
    return [{"kind": h["kind"], "title": h.get("title", h["kind"]), "icon": h.get("icon", "")} for h in entries]


def search_in_hubs(body: Any, user: str) -> tuple[list[dict], int]:
    """`POST /search_in_hubs`: {hub, search, per_page, offset, status}; the first hub when none is named."""
    if body is not None and not isinstance(body, dict):
        raise BadRequestError("The search body must be a JSON object")
    body = dict(body or {})
    kind = body.pop("hub", None) or (config.plugins("hubs")[0]["kind"] if config.plugins("hubs") else None)
    if not isinstance(kind, str):
        raise BadRequestError("`hub` must name one of the hubs: " + ", ".join(h["kind"] for h in list_hubs()))
    if isinstance(body.get("status"), str) and body["status"] in ("READY", ""):
        body.pop("status")  # the seed's editor always asks for READY, which is what hubs serve
    return get_hub(kind).search(Query.parse(body, user))
