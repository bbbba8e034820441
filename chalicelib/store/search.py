"""Search: the seed's request (a search string of `author:NAME` plus free text, statuses, paging) and
where its answers come from.

Why a mirror. Free text must match every candidate's title and description (case-insensitively,
substrings) and `total_count` must be exact, so a search has to look at the searchable fields of all
candidates: DynamoDB has no full-text index and no offset. Reading them from DynamoDB on every search
costs, with 10,000 nodes on real DynamoDB, about 3 MB of a slim index: three sequential 1 MB query
pages and some 375 read units per search; on the local stack's moto it costs tens of seconds, since
moto walks, copies and serialises every item it pages through. So each process (an API Lambda
container, the local stack) keeps a :class:`Mirror` of just those fields and, before each search,
reads only what changed since its last look: the table's `search-index` (models.py) orders items by
`update_date`, and the mirror walks it latest-first in small pages until it reaches its watermark.
Usually that is one query returning one item (one round trip, half a read unit). The page's full items
then come from one BatchGet (consistent reads, 100 keys a request): two round trips per search,
whatever the filters. Filtering 10,000 entries in memory takes a few milliseconds.

A cold process starts from a snapshot of the mirror in S3 (one GET of a gzip'd JSON, some 300 KB for
10,000 nodes) and the changes since; a refresh that read many items stores a new one. Without a
snapshot it reads the whole slim index once.

What it relies on: every write that changes a searchable field (title, description, author, status,
base node name) also sets `update_date` to now(), as every writer in chalicelib does; and items are not
deleted (nodes are deprecated, graphs are kept). An item that disappeared anyway is dropped from the
mirror when a page misses it. The watermark stays :data:`MARGIN` behind wall time, so a write whose
index entry appears late (a GSI is eventually consistent, typically well under a second) or whose
writer's clock is a little behind is still read.
"""
from __future__ import annotations

import datetime as _dt
import gzip
import json
import logging
import shlex
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import BadRequestError

from . import aws
from .settings import SETTINGS

T = TypeVar("T")
MAX_PER_PAGE = 1000
# How far behind wall time the watermark stays (GSI propagation and clock skew between writers).
MARGIN = _dt.timedelta(seconds=2)
# Index items per delta request: the first one is usually already older than the watermark.
DELTA_PAGE_SIZE = 10
# After reading this many index items (in one refresh or several), a process stores a snapshot for
# the next cold process (S3): 10,000 nodes make some 300 KB of gzip'd JSON, one PUT.
SNAPSHOT_AFTER = 100
SNAPSHOT_FORMAT = 2  # 2: entries say whether the item is archived
LOG = logging.getLogger(__name__)


@dataclass
class SearchRequest:
    author: str | None = None
    text: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    per_page: int = 20
    offset: int = 0
    lists: dict[str, list[str]] = field(default_factory=dict)
    archived: bool = False  # True: only archived items; False: only the others (lists, hubs)


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
    archived = body.get("archived", False)
    if not isinstance(archived, bool):
        raise BadRequestError("`archived` must be true (only archived items) or false")
    request = SearchRequest(
        archived=archived,
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


def check_known(values: Iterable[str], known: Iterable[str], what: str) -> set[str]:
    """The requested values as a set, or a 400 naming the unknown ones and the known ones."""
    chosen, allowed = set(values), set(known)
    unknown = chosen - allowed
    if unknown:
        raise BadRequestError(f"Unknown {what} {sorted(unknown)}; known: {sorted(allowed)}")
    return chosen


def matches_text(words: list[str], *fields: str) -> bool:
    """Every free-text word appears in one of the fields, case-insensitively."""
    haystack = " ".join(f or "" for f in fields).lower()
    return all(word in haystack for word in words)


@dataclass(frozen=True)
class Entry:
    """The searchable fields of one stored item, as its table's `search-index` projects them."""

    id: str
    insertion_date: str
    update_date: str
    author: str
    status: str
    kind: str
    text: str  # title and description, lower case, as matches_text joins them
    archived: bool = False


class Mirror:
    """This process's copy of one listing's searchable fields, brought up to date before each search."""

    def __init__(self, index: Any, listing: str, status_field: str, kind_field: str | None) -> None:
        self.index = index
        self.listing = listing
        self.status_field = status_field
        self.kind_field = kind_field
        self._entries: dict[str, Entry] = {}
        self._newest_first: list[Entry] = []
        self._sorted = True
        self._watermark: str | None = None  # None: nothing read yet (a cold process)
        self._lock = threading.Lock()
        self.last_read = 0  # index items read by the latest refresh (bench and tests look at it)
        self.snapshots_loaded = 0
        self._unsaved = 0  # index items read since the last snapshot was stored or loaded
        self._latest = ""  # the latest update_date among the entries

    def _entry(self, item: Any) -> Entry:
        return Entry(
            id=item.id,
            insertion_date=item.insertion_date or "",
            update_date=item.update_date or "",
            author=item.author or "",
            status=getattr(item, self.status_field) or "",
            kind=(getattr(item, self.kind_field) or "") if self.kind_field else "",
            text=" ".join((item.title or "", item.description or "")).lower(),
            archived=bool(getattr(item, "archived", None)),
        )

    def refresh(self) -> None:
        """Read what changed since the watermark (from a snapshot or everything, when cold), latest first."""
        if self._watermark is None:
            self._load_snapshot()
        if not self._read_changes():
            # The index's latest change is older than one the mirror holds: that item was deleted, or
            # the tables were replaced (a restored backup, another local stack). Start over, cold.
            LOG.warning("search mirror of %s reset: the index lost items it had", self.snapshot_key)
            self._entries, self._sorted, self._watermark, self._latest = {}, False, None, ""
            self._read_changes()
        self._unsaved += self.last_read
        if self._unsaved >= SNAPSHOT_AFTER:
            self._save_snapshot()

    def _read_changes(self) -> bool:
        """Apply the index items changed after the watermark; False if the index lost the latest one."""
        lag = now_minus(_dt.datetime.now(_dt.timezone.utc), MARGIN)
        watermark = self._watermark
        newest, read, first = "", 0, True
        for item in self._changes(cold=watermark is None):
            changed = item.update_date or ""
            if first and watermark is not None and changed < self._latest:
                return False
            first = False
            if watermark is not None and changed <= watermark:
                break
            read += 1
            entry = self._entry(item)
            newest = max(newest, entry.update_date)
            if self._entries.get(entry.id) != entry:
                self._entries[entry.id] = entry
                self._sorted = False
        if first and watermark is not None and self._entries:
            return False  # the index is empty
        self.last_read = read
        self._latest = max(self._latest, newest)
        # Up to the latest change read, but never closer to now than MARGIN, and never backwards.
        mark = min(newest, lag) if newest else (watermark or "")
        self._watermark = max(watermark or "", mark)
        return True

    @property
    def snapshot_key(self) -> str:
        return f"search/{self.index._model.Meta.table_name}/{self.listing}.json.gz"

    def _load_snapshot(self) -> None:
        """Start from the latest snapshot, if any (a missing or unreadable one only costs a full read)."""
        try:
            stored = aws.client("s3").get_object(Bucket=SETTINGS.bucket, Key=self.snapshot_key)
            data = json.loads(gzip.decompress(stored["Body"].read()))
            if data.get("format") != SNAPSHOT_FORMAT:
                return
            entries = {row[0]: Entry(*row) for row in data["entries"]}
        except (BotoCoreError, ClientError, OSError, ValueError, TypeError, KeyError) as exc:
            if not (isinstance(exc, ClientError) and exc.response["Error"]["Code"] in ("NoSuchKey", "404")):
                LOG.warning("search snapshot %s unreadable; reading the index: %s", self.snapshot_key, exc)
            return
        self._entries, self._sorted, self._watermark = entries, False, data["watermark"]
        self._latest = max((e.update_date for e in entries.values()), default="")
        self.snapshots_loaded += 1

    def _save_snapshot(self) -> None:
        """Store entries and watermark: the next cold process reads one object and the changes since."""
        rows = [[e.id, e.insertion_date, e.update_date, e.author, e.status, e.kind, e.text, e.archived]
                for e in self._entries.values()]
        text = json.dumps({"format": SNAPSHOT_FORMAT, "watermark": self._watermark, "entries": rows},
                          separators=(",", ":"))
        body = gzip.compress(text.encode(), compresslevel=5)
        try:
            aws.client("s3").put_object(Bucket=SETTINGS.bucket, Key=self.snapshot_key, Body=body)
            self._unsaved = 0
        except (BotoCoreError, ClientError) as exc:  # searching works without it; a cold process reads more
            LOG.warning("search snapshot %s not saved: %s", self.snapshot_key, exc)

    def _changes(self, cold: bool) -> Iterator[Any]:
        """Index items, latest change first: 1 MB pages when cold; else pages of 10, 40, 160, ... items,
        since the first item is usually already at the watermark (one small round trip)."""
        if cold:
            yield from self.index.query(self.listing, scan_index_forward=False)
            return
        size, start = DELTA_PAGE_SIZE, None
        while True:
            page = self.index.query(self.listing, scan_index_forward=False, limit=size, page_size=size,
                                    last_evaluated_key=start)
            yield from page
            start = page.last_evaluated_key
            if start is None:
                return
            size = min(size * 4, 1000)

    def forget(self, ids: Iterable[str]) -> None:
        """Drop items that no longer exist (a page found them missing)."""
        for item_id in ids:
            if self._entries.pop(item_id, None) is not None:
                self._sorted = False

    def entries(self) -> list[Entry]:
        """Every entry, newest insertion first, up to date as of now."""
        if not self._sorted:
            self._newest_first = sorted(self._entries.values(), key=lambda e: (e.insertion_date, e.id),
                                        reverse=True)
            self._sorted = True
        return self._newest_first


def now_minus(moment: _dt.datetime, delta: _dt.timedelta) -> str:
    """A timestamp in util.now()'s format (they sort as strings), `delta` before `moment`."""
    stamp = moment - delta
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


_MIRRORS: dict[tuple[str, str, str], Mirror] = {}
_MIRRORS_LOCK = threading.Lock()


def mirror(index: Any, listing: str, status_field: str, kind_field: str | None = None) -> Mirror:
    """The process-wide mirror of one listing, one per table (and endpoint, so stacks never mix)."""
    meta = index._model.Meta
    key = (str(getattr(meta, "host", None)), meta.table_name, listing)
    with _MIRRORS_LOCK:
        if key not in _MIRRORS:
            _MIRRORS[key] = Mirror(index, listing, status_field, kind_field)
        return _MIRRORS[key]


def find(source: Mirror, request: SearchRequest, statuses: set[str], kinds: set[str],
         fetch: Callable[[Sequence[str]], list[T]]) -> tuple[list[T], int]:
    """The requested page of items matching the request, newest first, and the exact total count.

    `fetch` reads full items by id (a BatchGet) and returns those that exist, in any order.
    """
    with source._lock:
        source.refresh()
        for _ in range(3):
            matched = [
                e for e in source.entries()
                if e.archived == request.archived
                and (request.author is None or e.author == request.author)
                and (not statuses or e.status in statuses)
                and (not kinds or e.kind in kinds)
                and all(word in e.text for word in request.text)
            ]
            ids = [e.id for e in matched[request.offset : request.offset + request.per_page]]
            items = {item.id: item for item in fetch(ids)} if ids else {}  # type: ignore[attr-defined]
            missing = [i for i in ids if i not in items]
            if not missing:
                break
            source.forget(missing)
        return [items[i] for i in ids if i in items], len(matched) - len(missing)


def batch_get(model: Any) -> Callable[[Sequence[str]], list[Any]]:
    """Consistent reads of full items by id: the page shows each item as it is now."""
    return lambda ids: list(model.batch_get(ids, consistent_read=True))
