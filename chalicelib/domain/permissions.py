"""The seed's IAM policies applied to operations (nodes) and workflows (graphs).

Reading another user's object needs CAN_VIEW_OTHERS_*; it then comes back `_readonly`. Writing it
needs IS_ADMIN (or CAN_MODIFY_OTHERS_WORKFLOWS for graphs); otherwise 403.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .enums import IAMPolicies
from .errors import ForbiddenError


class Caller(str):
    """The calling user: a username (what stored objects record as author) carrying its policies."""

    policies: frozenset[str]

    def __new__(cls, username: str, policies: Iterable[str]) -> "Caller":
        caller = super().__new__(cls, username)
        caller.policies = frozenset(policies)
        return caller

    def can(self, policy: str) -> bool:
        """Admins may do everything; others what their policies list."""
        return IAMPolicies.IS_ADMIN in self.policies or policy in self.policies

    def require(self, policy: str, what: str) -> None:
        """403 with the missing policy named, so an admin knows what to grant."""
        if not self.can(policy):
            raise ForbiddenError(f"`{self}` may not {what} (needs {policy})")


def caller_policies(user: str) -> frozenset[str]:
    """A username's policies as checked by the domain modules (a bare string is the single user)."""
    return user.policies if isinstance(user, Caller) else frozenset({IAMPolicies.IS_ADMIN})


NODE, GRAPH = "operation", "workflow"
_VIEW = {NODE: IAMPolicies.CAN_VIEW_OPERATIONS, GRAPH: IAMPolicies.CAN_VIEW_WORKFLOWS}
_VIEW_OTHERS = {NODE: IAMPolicies.CAN_VIEW_OTHERS_OPERATIONS, GRAPH: IAMPolicies.CAN_VIEW_OTHERS_WORKFLOWS}
_CREATE = {NODE: IAMPolicies.CAN_CREATE_OPERATIONS, GRAPH: IAMPolicies.CAN_CREATE_WORKFLOWS}


def has(user: str, policy: str) -> bool:
    """Admins hold every policy."""
    policies = caller_policies(user)
    return IAMPolicies.IS_ADMIN in policies or policy in policies


def _deny(user: str, what: str, policy: str) -> ForbiddenError:
    return ForbiddenError(f"`{user}` may not {what} (needs {policy})")


def may_view_others(user: str, kind: str) -> bool:
    """Whether searches and reads may show other users' objects of this kind."""
    return has(user, _VIEW[kind]) and has(user, _VIEW_OTHERS[kind])


def may_view(user: str, kind: str, author: str) -> bool:
    """Whether the caller may see an object of this kind by `author` (check_view without the 403)."""
    return has(user, _VIEW[kind]) and (author == str(user) or has(user, _VIEW_OTHERS[kind]))


def check_view(user: str, kind: str, author: str, object_id: str) -> None:
    """403 unless the caller may see this object."""
    if not has(user, _VIEW[kind]):
        raise _deny(user, f"view {kind}s", _VIEW[kind])
    if author != user and not has(user, _VIEW_OTHERS[kind]):
        raise _deny(user, f"view {kind} `{object_id}` of `{author}`", _VIEW_OTHERS[kind])


def may_write(user: str, kind: str, author: str) -> bool:
    """Own objects with the create policy; others' only as admin (or workflow modifier)."""
    if not has(user, _CREATE[kind]):
        return False
    if author == user:
        return True
    return has(user, IAMPolicies.IS_ADMIN) or (kind == GRAPH and has(user, IAMPolicies.CAN_MODIFY_OTHERS_WORKFLOWS))


def check_write(user: str, kind: str, author: str, object_id: str) -> None:
    """403 naming the owner when the caller may not change this object."""
    if not has(user, _CREATE[kind]):
        raise _deny(user, f"create or change {kind}s", _CREATE[kind])
    if not may_write(user, kind, author):
        raise ForbiddenError(f"{kind.capitalize()} `{object_id}` belongs to `{author}` and is read only for `{user}`")


def check_delete(user: str, kind: str, author: str, object_id: str) -> None:
    """Deleting is for the author (with the create policy) or an admin; CAN_MODIFY_OTHERS_WORKFLOWS is not enough."""
    if not has(user, _CREATE[kind]):
        raise _deny(user, f"delete {kind}s", _CREATE[kind])
    if author != str(user) and not has(user, IAMPolicies.IS_ADMIN):
        raise ForbiddenError(f"{kind.capitalize()} `{object_id}` belongs to `{author}`: only they or an admin "
                             "may delete it")


def check_run(user: str, author: str, graph_id: str) -> None:
    """Running or cancelling a graph needs CAN_RUN_WORKFLOWS and the right to change it."""
    if not has(user, IAMPolicies.CAN_RUN_WORKFLOWS):
        raise _deny(user, "run workflows", IAMPolicies.CAN_RUN_WORKFLOWS)
    check_write(user, GRAPH, author, graph_id)


def search_scope(user: str, kind: str, author: str | None) -> tuple[str | None, bool]:
    """The author a search is limited to, and whether it can find anything: a caller who may not
    view others' objects searches their own only."""
    if not has(user, _VIEW[kind]):
        raise _deny(user, f"view {kind}s", _VIEW[kind])
    if may_view_others(user, kind):
        return author, True
    return str(user), author in (None, str(user))


KINDS = (NODE, GRAPH)


def holder(kind: str, username: str) -> str:
    """How a resource's owner record names who holds it and through what (`workflow:alice`)."""
    return f"{kind}:{username}"


def may_read_held(user: str, held_by: str) -> bool:
    """Whether the caller may read a resource held as `held_by`: their own, or an author whose objects of
    that kind the caller may view (a resource is readable by whoever may view what holds it)."""
    kind, _, author = held_by.partition(":")
    if kind not in _VIEW:
        return False
    return author == str(user) or (author != "" and may_view(user, kind, author))


@dataclass(frozen=True)
class RunPrincipal:
    """Who a run acts for: the graph's author, who owns what it stores, and whether they may view others'
    workflows. Fixed when the run is queued; the runner reads it from the queued items."""

    author: str
    sees_others: bool

    @classmethod
    def of(cls, user: str) -> "RunPrincipal":
        return cls(str(user), may_view_others(user, GRAPH))

    def may_restore(self, entry_author: str | None) -> bool:
        """A cache entry is restored only for who may view its author's workflows."""
        return self.sees_others or (entry_author is not None and entry_author == self.author)
