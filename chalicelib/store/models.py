"""DynamoDB tables. A graph is a header item plus one item per node, so no graph hits the 400 KB item limit."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute,
                                 UnicodeSetAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from .settings import SETTINGS


class _Meta:
    region = SETTINGS.region
    host = SETTINGS.endpoint_url
    billing_mode = "PAY_PER_REQUEST"


class ByAuthorIndex(GlobalSecondaryIndex):
    """Newest-first listing of one author's objects (the search string's `author:`)."""

    class Meta:
        index_name = "author-index"
        projection = AllProjection()

    author = UnicodeAttribute(hash_key=True)
    insertion_date = UnicodeAttribute(range_key=True)


class ByListingIndex(GlobalSecondaryIndex):
    """Newest-first listing of everything of one listing kind, without a table scan."""

    class Meta:
        index_name = "listing-index"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    insertion_date = UnicodeAttribute(range_key=True)


class NodeSearchIndex(GlobalSecondaryIndex):
    """Searchable fields of every node, latest change first: a search process reads only what changed
    since its last search (chalicelib/store/search.py). Only small fields, so a cold read is a few 1 MB pages."""

    class Meta:
        index_name = "search-index"
        projection = IncludeProjection(
            ["author", "title", "description", "insertion_date", "node_status", "base_node_name", "archived"])

    listing = UnicodeAttribute(hash_key=True)
    update_date = UnicodeAttribute(range_key=True)


class GraphSearchIndex(GlobalSecondaryIndex):
    """Searchable fields of every graph header, latest change first (see NodeSearchIndex)."""

    class Meta:
        index_name = "search-index"
        projection = IncludeProjection(
            ["author", "title", "description", "insertion_date", "graph_running_status", "archived"])

    listing = UnicodeAttribute(hash_key=True)
    update_date = UnicodeAttribute(range_key=True)


class NodeModel(Model):
    """A stored operation or file (the seed's `nodes` collection)."""

    class Meta(_Meta):
        table_name = SETTINGS.nodes_table

    id = UnicodeAttribute(hash_key=True, attr_name="_id")
    listing = UnicodeAttribute()
    author = UnicodeAttribute()
    title = UnicodeAttribute(default="")
    description = UnicodeAttribute(default="")
    base_node_name = UnicodeAttribute()
    node_status = UnicodeAttribute()
    insertion_date = UnicodeAttribute()
    update_date = UnicodeAttribute()
    body = JSONAttribute()
    # Bumped by every edit (not by run statuses); a save from a stale `_version` is a 409.
    version = NumberAttribute(default=0)
    # When it was archived (chalicelib/api/lifecycle.py): hidden from searches and hubs, still read by id.
    archived = UnicodeAttribute(null=True)

    by_author = ByAuthorIndex()
    by_listing = ByListingIndex()
    by_change = NodeSearchIndex()


class GraphModel(Model):
    """A graph's header: everything but its nodes, and where they are (chalicelib/store/graph_items.py)."""

    class Meta(_Meta):
        table_name = SETTINGS.graphs_table

    id = UnicodeAttribute(hash_key=True, attr_name="_id")
    listing = UnicodeAttribute()
    author = UnicodeAttribute()
    title = UnicodeAttribute(default="")
    description = UnicodeAttribute(default="")
    graph_running_status = UnicodeAttribute()
    insertion_date = UnicodeAttribute()
    update_date = UnicodeAttribute()
    node_count = NumberAttribute(default=0)
    run_id = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    state_machine_arn = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    # While the run is being prepared (chalicelib/engine/preparation.py): the time by which its preparation
    # must have started it; a run still preparing after that lost its preparation.
    prepare_by = UnicodeAttribute(null=True)
    # The run's nodes are not written yet (its preparation writes them): readers show the saved version's.
    nodes_pending = BooleanAttribute(null=True)
    # The user whose concurrent-runs slot the current run holds (engine/quotas.py); None: exempt.
    quota_user = UnicodeAttribute(null=True)
    # The graph's newest run (its record: chalicelib/store/run_records.py); a save keeps it, unlike `run_id`.
    latest_run = UnicodeAttribute(null=True)
    # Bumped by every edit (not by run statuses); a save from a stale `_version` is a 409.
    version = NumberAttribute(default=0)
    # The graph-nodes partition of this version's nodes; none: the graph id (saved before versions had one)
    nodes_key = UnicodeAttribute(null=True, attr_name="nodes")
    # When it was archived (chalicelib/api/lifecycle.py): hidden from searches, still read and run by id.
    archived = UnicodeAttribute(null=True)

    by_author = ByAuthorIndex()
    by_listing = ByListingIndex()
    by_change = GraphSearchIndex()


class GraphNodeModel(Model):
    """One node of a saved version of a graph, or of a run; the runner updates its status and results
    without touching the rest. The partition (`graph_id`) is a version's or a run's (graph_items.py)."""

    class Meta(_Meta):
        table_name = SETTINGS.graph_nodes_table

    graph_id = UnicodeAttribute(hash_key=True)
    node_id = UnicodeAttribute(range_key=True)
    body = JSONAttribute()
    node_running_status = UnicodeAttribute()
    run_id = UnicodeAttribute(null=True)
    outputs = JSONAttribute(null=True)  # {output name: resource_id}, written by the runner
    logs = JSONAttribute(null=True)  # {log name: resource_id}, written by the runner
    update_date = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)  # a composite's nested execution (CANCEL stops it)
    # Who the run acts for, set when it is queued (the runner may not read the users table): the graph's
    # author, who owns what the run stores, and whether they may view others' workflows (cache restores).
    run_author = UnicodeAttribute(null=True)
    run_sees_others = BooleanAttribute(null=True)
    # Per operation in a run (chalicelib/engine/transitions.py): its first claim, its end, the claims it took.
    started = UnicodeAttribute(null=True)
    ended = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)
    # A run's node whose parameters the run set (domain/run_parameters.py): their saved values, which the
    # graph's own view shows (the body holds the run's, which the runner and the run view see).
    saved_parameters = JSONAttribute(null=True)
    # A RESTORED operation: the cache entry's run it came from ({"run_id", "graph_id", "date"}), for the UI to say so.
    restored_from = JSONAttribute(null=True)
    # A SUCCESS: the ids of its outputs whose content its own upload created (no earlier run had them), written by
    # the runner with its end: an operation reading one needs no cache lookup (runners/handler.py). Never shown.
    created = JSONAttribute(null=True)
    # A SUCCESS: its small outputs' bytes ({resource id: base64}), written by the runner with its end, so that an
    # operation reading them needs no GetObject (checked against their ids before use). Never shown.
    inline = JSONAttribute(null=True)
    # `fargate` for an operation the engine moved to Fargate at APPROVE (its inputs too big for Lambda's disk);
    # otherwise where it ran is the compiler's stepfunctions.placement of its body. Read by a run's cost.
    placement = UnicodeAttribute(null=True)


class RunModel(Model):
    """One run of a graph, kept after newer runs (the seed's `runs` collection): an item of the graph-nodes
    table in the graph's partition of runs (chalicelib/store/run_records.py), keyed by run id; a graph's run
    ids sort by their start, so the partition reads newest first. Its nodes stay in the run's own partition."""

    class Meta(_Meta):
        table_name = SETTINGS.graph_nodes_table

    partition = UnicodeAttribute(hash_key=True, attr_name="graph_id")
    run_id = UnicodeAttribute(range_key=True, attr_name="node_id")
    graph = UnicodeAttribute()  # the graph's id
    version = NumberAttribute(default=0)  # the graph's version as it ran
    title = UnicodeAttribute(default="")
    node_count = NumberAttribute(default=0)
    started_by = UnicodeAttribute()  # who approved or created the run
    acting_for = UnicodeAttribute(null=True)  # whom the run acts for (the graph's author)
    how = UnicodeAttribute()  # APPROVE, CREATE_RUN, RETRY, SCHEDULE, API
    schedule_id = UnicodeAttribute(null=True)  # the schedule a SCHEDULE run was fired by
    retry_of = UnicodeAttribute(null=True)  # the run a RETRY restarted from its failure
    parameters = JSONAttribute(null=True)
    run_status = UnicodeAttribute()  # moved with the graph's header, only by chalicelib/engine/transitions.py
    start = UnicodeAttribute()
    end = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)


class RunPointerModel(Model):
    """Which graph a run id belongs to (`GET /runs/{run_id}` knows only the run id); never changes."""

    class Meta(_Meta):
        table_name = SETTINGS.graph_nodes_table

    partition = UnicodeAttribute(hash_key=True, attr_name="graph_id")
    key = UnicodeAttribute(range_key=True, attr_name="node_id")
    graph = UnicodeAttribute()


class ScheduleModel(Model):
    """A graph's schedule (chalicelib/store/schedules.py): an item of the graph-nodes table in the graph's
    partition of schedules, keyed by schedule id; its EventBridge Scheduler schedule is named by that id."""

    class Meta(_Meta):
        table_name = SETTINGS.graph_nodes_table

    partition = UnicodeAttribute(hash_key=True, attr_name="graph_id")
    schedule_id = UnicodeAttribute(range_key=True, attr_name="node_id")
    graph = UnicodeAttribute()
    expression = UnicodeAttribute()
    timezone = UnicodeAttribute()
    parameters = JSONAttribute(null=True)
    enabled = BooleanAttribute(default=True)
    author = UnicodeAttribute()  # who made it: each fire runs on their behalf
    updated_by = UnicodeAttribute(null=True)
    created = UnicodeAttribute()
    updated = UnicodeAttribute()
    last_fire = JSONAttribute(null=True)  # {scheduled, fired, outcome, run_id, message}
    fires = NumberAttribute(default=0)


class UserModel(Model):
    """A user; the single-user mode has just `default` with an empty password."""

    class Meta(_Meta):
        table_name = SETTINGS.users_table

    username = UnicodeAttribute(hash_key=True)
    password_hash = UnicodeAttribute(default="")
    display_name = UnicodeAttribute(default="")
    email = UnicodeAttribute(null=True)
    active = NumberAttribute(default=1)
    policies = JSONAttribute(null=True)  # a list of IAMPolicies; None: the configured defaults
    settings = JSONAttribute(null=True)
    insertion_date = UnicodeAttribute()
    # Every token carries the version it was issued at; a password change or a deactivation bumps it,
    # which revokes every token issued before.
    token_version = NumberAttribute(default=0)
    pending = NumberAttribute(null=True)  # 1 while the account waits for an admin's approval


class SignInFailureModel(Model):
    """Failed sign-ins of one user or one client address in the current window (chalicelib/store/throttle.py).

    In DynamoDB, not in memory: every Lambda container of the API sees the same count."""

    class Meta(_Meta):
        table_name = f"{SETTINGS.table_prefix}-sign-in-failures"

    key = UnicodeAttribute(hash_key=True)  # user#NAME or addr#ADDRESS
    window_start = NumberAttribute()  # epoch seconds of the window's first failure
    failures = NumberAttribute(default=0)
    blocked_until = NumberAttribute(null=True)  # epoch seconds: sign-ins refused (429) until then
    expires = TTLAttribute()  # DynamoDB TTL drops the item once it no longer matters


class CacheModel(Model):
    """An operation run's results by cache key: a later run with the same key restores them (RESTORED)."""

    class Meta(_Meta):
        table_name = f"{SETTINGS.table_prefix}-cache"

    key = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute(default="cache")  # one partition of the date index, for `cache list/clean`
    insertion_date = UnicodeAttribute()
    outputs = JSONAttribute()  # {output name: resource_id}
    logs = JSONAttribute()  # {log name: resource_id}
    graph_id = UnicodeAttribute(null=True)
    node_id = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute(default="")
    author = UnicodeAttribute(null=True)  # whose run stored it: restored only for who may view their workflows

    by_listing = ByListingIndex()


class OwnerModel(Model):
    """Who holds a resource: one item per (content id, holder), holder `workflow:<user>` (a run's outputs
    and logs, a graph's file) or `operation:<user>` (an upload, a library file). Equal content gains
    holders; nothing expires (content ids are forever), so no TTL. Reads follow these (resource_access)."""

    class Meta(_Meta):
        table_name = f"{SETTINGS.table_prefix}-owners"

    resource_id = UnicodeAttribute(hash_key=True)
    holder = UnicodeAttribute(range_key=True)
    # When a holder last recorded it: the garbage collector leaves content someone holds anew (chalicelib/engine/gc.py).
    recorded = UnicodeAttribute(null=True)


class WaitModel(Model):
    """One operation's dependency wait in one run: its task token and the dependencies that have finished.

    The parked branch and each finishing dependency update this item atomically; whoever sees both the
    token and every dependency done claims `released` and sends the callback (chalicelib/engine/waits.py).
    """

    class Meta(_Meta):
        table_name = f"{SETTINGS.table_prefix}-waits"

    run_id = UnicodeAttribute(hash_key=True)
    node_id = UnicodeAttribute(range_key=True)
    token = UnicodeAttribute(null=True)
    needs = NumberAttribute(null=True)
    done = UnicodeSetAttribute(null=True)
    released = NumberAttribute(null=True)
    expires = NumberAttribute(null=True)  # epoch seconds: DynamoDB TTL drops old runs' waits


class QuotaModel(Model):
    """One user's runs still going (`graph_id/run_id`): APPROVE adds one only while there are fewer than the
    user's `concurrent_runs`, the run's end removes it (chalicelib/engine/quotas.py)."""

    class Meta(_Meta):
        table_name = f"{SETTINGS.table_prefix}-quotas"

    username = UnicodeAttribute(hash_key=True)
    runs = UnicodeSetAttribute(null=True)


class AutomationModel(Model):
    """Triggers and notification settings (chalicelib/store/automation.py), items by kind of key:
    `webhook#<token SHA-256>`/`trigger` (a webhook trigger, found by its token's hash), `graph#<id>`/`webhook`
    and `graph#<id>`/`file#<node id>` (a graph's triggers), `file#<node id>`/<graph id> (who watches a file),
    `notify#<graph id>`/<username> (a user's notification settings for a graph, with its signing secret)."""

    class Meta(_Meta):
        table_name = f"{SETTINGS.table_prefix}-automation"

    key = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    graph_id = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)  # the trigger's creator, or the settings' user
    token_hash = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)  # settings; a trigger's last firing
    created = UnicodeAttribute(null=True)


ALL_MODELS = (NodeModel, GraphModel, GraphNodeModel, UserModel, CacheModel, WaitModel, SignInFailureModel,
              OwnerModel, QuotaModel, AutomationModel)


