"""The seed's IAM policies on operations and workflows: every path of view, write, run and search."""
from __future__ import annotations

import pytest

from chalicelib.domain import permissions
from chalicelib.domain.enums import IAMPolicies as P
from chalicelib.domain.errors import ForbiddenError
from chalicelib.domain.permissions import GRAPH, NODE, Caller

VIEW = {NODE: P.CAN_VIEW_OPERATIONS, GRAPH: P.CAN_VIEW_WORKFLOWS}
VIEW_OTHERS = {NODE: P.CAN_VIEW_OTHERS_OPERATIONS, GRAPH: P.CAN_VIEW_OTHERS_WORKFLOWS}
CREATE = {NODE: P.CAN_CREATE_OPERATIONS, GRAPH: P.CAN_CREATE_WORKFLOWS}


def bob(*policies: str) -> Caller:
    return Caller("bob", policies)


# --- Caller ------------------------------------------------------------------------------------


def test_a_caller_is_its_username_carrying_its_policies() -> None:
    caller = bob(P.CAN_VIEW_WORKFLOWS, P.CAN_VIEW_WORKFLOWS)
    assert caller == "bob" and isinstance(caller, str) and f"{caller}" == "bob"
    assert caller.policies == frozenset({P.CAN_VIEW_WORKFLOWS})
    assert {caller: 1}["bob"] == 1  # compares and hashes as the author string objects record


@pytest.mark.parametrize("policies, policy, allowed", [
    ((P.CAN_RUN_WORKFLOWS,), P.CAN_RUN_WORKFLOWS, True),
    ((P.CAN_RUN_WORKFLOWS,), P.CAN_CREATE_WORKFLOWS, False),
    ((), P.CAN_VIEW_OPERATIONS, False),
    ((P.IS_ADMIN,), P.CAN_MODIFY_OTHERS_WORKFLOWS, True),  # an admin holds every policy
])
def test_caller_can_and_require(policies: tuple[str, ...], policy: str, allowed: bool) -> None:
    caller = bob(*policies)
    assert caller.can(policy) is allowed
    assert permissions.has(caller, policy) is allowed
    if allowed:
        caller.require(policy, "do it")
    else:
        with pytest.raises(ForbiddenError, match=f"`bob` may not do it \\(needs {policy}\\)"):
            caller.require(policy, "do it")


def test_a_bare_username_is_the_single_user_and_holds_every_policy() -> None:
    assert permissions.caller_policies("default") == {P.IS_ADMIN}
    assert permissions.caller_policies(bob(P.CAN_VIEW_WORKFLOWS)) == {P.CAN_VIEW_WORKFLOWS}
    assert all(permissions.has("default", policy) for policy in P.ALL)


@pytest.mark.parametrize("kind", [NODE, GRAPH])
def test_the_single_user_may_do_everything_to_anyones_objects(kind: str) -> None:
    permissions.check_view("default", kind, "carol", "x")
    permissions.check_write("default", kind, "carol", "x")
    permissions.check_run("default", "carol", "x")
    assert permissions.may_view("default", kind, "carol") and permissions.may_write("default", kind, "carol")
    assert permissions.search_scope("default", kind, "carol") == ("carol", True)


def test_forbidden_is_403() -> None:
    assert ForbiddenError.STATUS_CODE == 403


# --- view --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [NODE, GRAPH])
@pytest.mark.parametrize("policies, author, needs", [
    ("view", "bob", None),
    ("view", "carol", "view-others"),
    ("view+others", "carol", None),
    ("others", "bob", "view"),  # seeing others' objects needs seeing objects at all
    ("others", "carol", "view"),
    ("none", "bob", "view"),
    ("admin", "carol", None),
])
def test_check_view(kind: str, policies: str, author: str, needs: str | None) -> None:
    granted = {"view": [VIEW[kind]], "view+others": [VIEW[kind], VIEW_OTHERS[kind]], "others": [VIEW_OTHERS[kind]],
               "none": [], "admin": [P.IS_ADMIN]}[policies]
    caller = bob(*granted)
    assert permissions.may_view(caller, kind, author) is (needs is None)
    if needs is None:
        permissions.check_view(caller, kind, author, "obj-1")
        return
    missing = {"view": VIEW, "view-others": VIEW_OTHERS}[needs][kind]
    with pytest.raises(ForbiddenError, match=f"needs {missing}") as raised:
        permissions.check_view(caller, kind, author, "obj-1")
    if needs == "view-others":
        assert f"may not view {kind} `obj-1` of `carol`" in str(raised.value)
    else:
        assert f"may not view {kind}s" in str(raised.value)


@pytest.mark.parametrize("kind", [NODE, GRAPH])
def test_viewing_one_kind_says_nothing_about_the_other(kind: str) -> None:
    other = GRAPH if kind == NODE else NODE
    caller = bob(VIEW[kind], VIEW_OTHERS[kind])
    assert permissions.may_view(caller, kind, "carol") and permissions.may_view_others(caller, kind)
    assert not permissions.may_view(caller, other, "bob") and not permissions.may_view_others(caller, other)


# --- write -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, policies, author, outcome", [
    (NODE, [P.CAN_CREATE_OPERATIONS], "bob", "ok"),
    (GRAPH, [P.CAN_CREATE_WORKFLOWS], "bob", "ok"),
    (NODE, [], "bob", "needs-create"),
    (GRAPH, [P.CAN_CREATE_OPERATIONS], "bob", "needs-create"),  # creating operations is not creating workflows
    (NODE, [P.CAN_CREATE_OPERATIONS], "carol", "read-only"),
    (GRAPH, [P.CAN_CREATE_WORKFLOWS], "carol", "read-only"),
    (GRAPH, [P.CAN_CREATE_WORKFLOWS, P.CAN_MODIFY_OTHERS_WORKFLOWS], "carol", "ok"),
    (NODE, [P.CAN_CREATE_OPERATIONS, P.CAN_MODIFY_OTHERS_WORKFLOWS], "carol", "read-only"),  # workflows only
    (GRAPH, [P.CAN_MODIFY_OTHERS_WORKFLOWS], "carol", "needs-create"),
    (NODE, [P.IS_ADMIN], "carol", "ok"),
    (GRAPH, [P.IS_ADMIN], "carol", "ok"),
])
def test_check_write(kind: str, policies: list[str], author: str, outcome: str) -> None:
    caller = bob(*policies)
    assert permissions.may_write(caller, kind, author) is (outcome == "ok")
    if outcome == "ok":
        permissions.check_write(caller, kind, author, "obj-1")
    elif outcome == "needs-create":
        with pytest.raises(ForbiddenError, match=f"`bob` may not create or change {kind}s \\(needs {CREATE[kind]}\\)"):
            permissions.check_write(caller, kind, author, "obj-1")
    else:
        with pytest.raises(ForbiddenError, match=f"{kind.capitalize()} `obj-1` belongs to `carol` and is read only for `bob`"):
            permissions.check_write(caller, kind, author, "obj-1")


# --- run ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("policies, author, refusal", [
    ([P.CAN_RUN_WORKFLOWS, P.CAN_CREATE_WORKFLOWS], "bob", None),
    ([P.CAN_CREATE_WORKFLOWS], "bob", "needs CAN_RUN_WORKFLOWS"),
    ([P.CAN_RUN_WORKFLOWS], "bob", "needs CAN_CREATE_WORKFLOWS"),  # running changes the graph's run status
    ([P.CAN_RUN_WORKFLOWS, P.CAN_CREATE_WORKFLOWS], "carol", "belongs to `carol`"),
    ([P.CAN_RUN_WORKFLOWS, P.CAN_CREATE_WORKFLOWS, P.CAN_MODIFY_OTHERS_WORKFLOWS], "carol", None),
    ([P.CAN_CREATE_WORKFLOWS, P.CAN_MODIFY_OTHERS_WORKFLOWS], "carol", "needs CAN_RUN_WORKFLOWS"),
    ([P.IS_ADMIN], "carol", None),
    (list(P.DEFAULT), "bob", None),  # a registered user runs their own graphs
    (list(P.DEFAULT), "carol", "belongs to `carol`"),  # and no one else's
])
def test_check_run(policies: list[str], author: str, refusal: str | None) -> None:
    caller = bob(*policies)
    if refusal is None:
        permissions.check_run(caller, author, "g1")
    else:
        with pytest.raises(ForbiddenError, match=refusal):
            permissions.check_run(caller, author, "g1")


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [NODE, GRAPH])
@pytest.mark.parametrize("granted, asked, scope", [
    ("view+others", None, (None, True)),  # everyone's
    ("view+others", "carol", ("carol", True)),
    ("view+others", "bob", ("bob", True)),
    ("view", None, ("bob", True)),  # limited to their own
    ("view", "bob", ("bob", True)),
    ("view", "carol", ("bob", False)),  # asked for someone else's: nothing to find
    ("admin", "carol", ("carol", True)),
])
def test_search_scope(kind: str, granted: str, asked: str | None, scope: tuple[str | None, bool]) -> None:
    policies = {"view": [VIEW[kind]], "view+others": [VIEW[kind], VIEW_OTHERS[kind]], "admin": [P.IS_ADMIN]}[granted]
    assert permissions.search_scope(bob(*policies), kind, asked) == scope


@pytest.mark.parametrize("kind", [NODE, GRAPH])
def test_search_without_the_view_policy_is_403(kind: str) -> None:
    with pytest.raises(ForbiddenError, match=f"`bob` may not view {kind}s \\(needs {VIEW[kind]}\\)"):
        permissions.search_scope(bob(VIEW_OTHERS[kind]), kind, None)


def test_the_default_policies_of_a_registered_user() -> None:
    user = bob(*P.DEFAULT)
    assert not user.can(P.IS_ADMIN) and not user.can(P.CAN_MODIFY_OTHERS_WORKFLOWS)
    for kind in (NODE, GRAPH):
        assert permissions.may_view(user, kind, "carol")  # sees others' work, read only
        assert not permissions.may_write(user, kind, "carol")
        assert permissions.may_write(user, kind, "bob")
