"""Try an operation before approving it: `POST /nodes/try`, `GET /trials`, `GET /trials/{id}`.

A trial runs the draft as posted (saved or not) once, as a one-node graph of its own (domain/trials.py)
started by actions.run_graph, the path APPROVE takes: same compiler, same runner, same quotas. Who may try:
whoever may run workflows, on inputs they may read (others' ids are answered as ids that do not exist).
Who may see a trial: its author (and admins); everyone else gets a 404. Trials expire (engine/trials.py).
"""
from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.domain import nodes, permissions, trials, validation
from chalicelib.domain.enums import BaseNodeNames, PostStatus
from chalicelib.domain.errors import BadRequestError, NotFoundError
from chalicelib.domain.resource_kinds import RESOURCES_DICT
from chalicelib.engine import trials as trial_store
from chalicelib.store import storage
from chalicelib.store.graph_items import load_model
from chalicelib.store.models import GraphModel
from chalicelib.store.settings import SETTINGS

from . import actions, graphs, resource_access, runs

BODY_FIELDS = frozenset({"node", "inputs", "parameters"})
LISTED = 20  # GET /trials answers a user's newest trials, this many


def _check_inputs(inputs: dict[str, list[tuple[str, str]]], user: str) -> None:
    """400 for what is not a resource id; 404 (worded as for an id nobody stored) for one the caller may not read."""
    ids = set()
    for name, values in inputs.items():
        for resource_id, _ in values:
            if not storage.is_resource_id(resource_id):
                raise BadRequestError(f"`inputs.{name}`: `{resource_id[:80]}` is not a resource id")
            ids.add(resource_id)
    missing = sorted(ids - resource_access.readable(ids, user))
    # an admin reads every id: one never stored fails here, not in the runner (a HeadObject each, <= 50)
    missing += sorted(resource_id for resource_id in ids - set(missing) if storage.stored_size(resource_id) is None)
    if missing:
        raise NotFoundError(f"Resource `{missing[0]}` not found")


def _refused(node: dict, message: str, error: dict | None) -> dict:
    """The seed's VALIDATION_FAILED answer (as POST /nodes VALIDATE gives it): nothing was stored or run."""
    return {"status": PostStatus.VALIDATION_FAILED, "message": message, "node": node, "validation_error": error}


def try_node(body: dict, user: str) -> dict:
    """`POST /nodes/try`: start a trial of the posted operation; its id (a run id) or why it may not run."""
    unknown = sorted(set(body) - BODY_FIELDS)
    if unknown:
        raise BadRequestError(f"`POST /nodes/try` takes no fields {unknown}; it takes {sorted(BODY_FIELDS)}")
    if "node" not in body:
        raise BadRequestError("`node` is required: the operation to try, as `POST /nodes` takes it")
    permissions.check_run(user, str(user), "trial")  # the policies of a run of one's own workflow
    node = nodes.clean_node(body["node"], user)
    if node["base_node_name"] not in BaseNodeNames.OPERATIONS:
        raise BadRequestError(f"Only an operation ({', '.join(sorted(BaseNodeNames.OPERATIONS))}) can be tried, "
                              f"not a `{node['base_node_name']}` node")
    error = validation.validate_node(node)
    if error:
        return _refused(node, "Node did not pass validation", error)
    inputs = trials.input_values(node, body.get("inputs"), frozenset(RESOURCES_DICT))
    tried = trials.set_parameters(node, body.get("parameters"))
    graph = graphs.clean_graph(trials.build_graph(tried, inputs, user), user)
    _check_inputs(inputs, user)
    error, message = actions.validate_graph(graph, user)
    if error:
        return _refused(node, message, error)
    saved = graphs.save_graph(graph, user, listing=trials.LISTING)
    try:
        error, message, run_id = actions.run_graph(saved, user, files_checked=True, how=trials.TRIAL)
    except Exception:
        with contextlib.suppress(Exception):  # the refusal is the answer; a leftover header expires later
            trial_store.forget(load_model(saved["_id"]))  # never started (a quota, a compile error): nothing kept
        raise
    if error or run_id is None:
        trial_store.forget(load_model(saved["_id"]))
        return _refused(node, message, error)
    trial_store.expire(str(user))
    return {"status": PostStatus.SUCCESS, "message": f"Trial of `{node['title']}` started", "trial_id": run_id,
            "run_id": run_id, "graph_id": saved["_id"], "node_id": node["_id"],
            "url": f"{SETTINGS.ui_url}/runs/{run_id}"}


def get_trial(trial_id: str, user: str) -> dict:
    """`GET /trials/{id}`: the trial's run (statuses, outputs, logs) and its operation; 404 for anyone's but
    the caller's own (admins see all), and for a run that is not a trial."""
    run = runs.get_run(trial_id, user)
    if run.get("kind") != "trial":
        raise NotFoundError(f"Trial `{trial_id}` not found")
    run["operation"] = next((node for node in run["graph"]["nodes"]
                             if node["base_node_name"] in BaseNodeNames.OPERATIONS), None)
    run["node_id"] = load_model(run["graph_id"]).description
    return run


def _summary(model: GraphModel) -> dict | None:
    if not model.latest_run:
        return None
    return {"_id": model.latest_run, "trial_id": model.latest_run, "graph_id": model.id, "node_id": model.description,
            "title": model.title, "run_status": model.graph_running_status, "start": model.insertion_date,
            "update_date": model.update_date}


def list_trials(query: dict[str, Any] | None, user: str) -> dict:
    """`GET /trials[?node_id=...]`: the caller's newest trials (of one operation's draft, if given)."""
    permissions.check_view(user, permissions.GRAPH, str(user), "trials")
    node_id = (query or {}).get("node_id")
    found = [_summary(model) for model in trial_store.mine(str(user))
             if node_id is None or model.description == node_id]
    items = [item for item in found if item is not None]
    return {"items": items[:LISTED], "total_count": len(items)}
