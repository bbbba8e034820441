"""Resource kinds (the seed's resources_dict, from the config): which class prepares, checks and previews each."""
from __future__ import annotations

from typing import IO, Callable

from chalicelib.resource_types import BaseResource, ResourceError

from . import config
from .errors import BadRequestError


def _resources_dict() -> dict[str, dict]:
    return {
        item["kind"]: {
            "kind": item["kind"],
            "title": item.get("title", item["kind"]),
            # what the type is for, so a picker can say it (user configs may leave it out)
            "description": str(item.get("description") or ""),
            "icon": item.get("icon", "feathericons.file"),
            "color": item.get("color", "#fff"),
            "is_array": False,
            "display_raw": bool(getattr(resource_class(item["kind"]), "DISPLAY_RAW", False)),
        }
        for item in config.plugins("resources")
    }


def resource_class(kind: str) -> type[BaseResource]:
    """The class handling a resource kind; unknown kinds are handled as plain files."""
    for item in config.plugins("resources"):
        if item["kind"] == kind:
            return config.load_class(item.get("cls", "chalicelib.resource_types.common.File"))
    return BaseResource


RESOURCES_DICT = _resources_dict()


def check_upload(file_type: str, data: bytes) -> None:
    """A 400 for an upload that can never work as its type (not a zip, a zip bomb, not an int...)."""
    check = getattr(resource_class(file_type), "check_upload", None)  # seed-style plugins may lack it
    try:
        if check is not None:
            check(data)
    except ResourceError as exc:
        raise BadRequestError(f"Not a valid `{file_type}` file: {exc}") from exc


def check_staged(file_type: str, size: int, read: Callable[[], bytes], open_seekable: Callable[[], IO[bytes]],
                 small_bytes: int, declared_only: bool = False) -> None:
    """`check_upload` for bytes that sit in S3: a type's stream check, or its bytes check when small.

    `declared_only`: before the bytes exist, refuse only a size the type can never take.
    """
    cls = resource_class(file_type)
    if hasattr(cls, "check_upload_stream"):
        if declared_only:
            return
        try:
            with open_seekable() as stream:
                cls.check_upload_stream(stream)
        except ResourceError as exc:
            raise BadRequestError(f"Not a valid `{file_type}` file: {exc}") from exc
        return
    check = getattr(cls, "check_upload", None)
    if check is None or getattr(check, "__func__", None) is BaseResource.check_upload.__func__:
        return  # the type takes anything
    if size > small_bytes:
        raise BadRequestError(f"Not a valid `{file_type}` file: {size} bytes is more than such a file may be")
    if not declared_only:
        check_upload(file_type, read())


def unknown_kinds(node: dict) -> list[tuple[str, str]]:
    """Inputs and outputs whose resource kinds the config does not offer to this operation kind.

    Answers (INPUT or PROPERTY, name) pairs for the validation tree; a kind must be a configured
    resource and, when the operation's config entry lists `resources`, one of those.
    """
    allowed = set(RESOURCES_DICT)
    entry = next((o for o in config.plugins("operations") if o["kind"] == node.get("base_node_name")), None)
    if entry is not None and isinstance(entry.get("resources"), list):
        allowed &= set(entry["resources"])
    problems = [("INPUT", i["name"]) for i in node.get("inputs", [])
                if any(kind not in allowed for kind in i.get("file_types", []))]
    problems += [("PROPERTY", o["name"]) for o in node.get("outputs", []) if o.get("file_type") not in allowed]
    return problems
