"""Accounts: who may join (the registration mode), profiles, password changes, and what admins do to
users (create, approve, activate, deactivate, policies) through the REST API, the admin view and the CLI."""
from __future__ import annotations

from typing import Any, Iterable

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.domain import accounts as rules
from chalicelib.domain import passwords
from chalicelib.domain.enums import IAMPolicies, RegisterUserExceptionCode
from chalicelib.domain.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from chalicelib.domain.permissions import Caller
from chalicelib.domain.util import now
from chalicelib.store.models import UserModel
from chalicelib.store.settings import SETTINGS

from . import users

_MAX_SETTINGS_BYTES = 16_000


def user_dict(model: UserModel, with_private: bool) -> dict:
    """A user as the API shows it; email, policies, settings and `pending` only to the user and admins."""
    user = {"username": model.username, "display_name": model.display_name or model.username,
            "active": bool(model.active), "insertion_date": model.insertion_date}
    if with_private:
        user.update(email=model.email, policies=sorted(users.policies_of(model)), settings=model.settings or {},
                    pending=bool(model.pending))
    return user


def _single_user_refuses(what: str) -> None:
    if not SETTINGS.secret_key:
        raise BadRequestError(f"This deployment is single-user (no secret key); everyone is `default`: no {what}")


def create_user(username: Any, password: Any, email: Any = None, display_name: Any = None,
                policies: Iterable[str] | None = None, pending: bool = False) -> dict:
    """Store a new user (the configured default policies unless given); the seed's codes name what is wrong."""
    username = rules.check_username(username)
    password = passwords.check_new(password)
    email = rules.check_email(email)
    if display_name is not None and not isinstance(display_name, str):
        raise BadRequestError("`display_name` must be a string")
    chosen = SETTINGS.default_policies if policies is None else policies
    model = UserModel(
        username,
        password_hash=passwords.hash_password(password),
        display_name=display_name or username,
        email=email,
        # Stored, not left to the defaults: a later change of the configured defaults changes no one.
        policies=rules.check_policies(list(chosen)),
        settings={},
        insertion_date=now(),
        pending=1 if pending else None,
    )
    try:
        model.save(condition=UserModel.username.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise ConflictError(f"{RegisterUserExceptionCode.USERNAME_ALREADY_EXISTS}: `{username}` is taken") from exc
    return user_dict(model, with_private=True)


def register(body: dict) -> dict:
    """`POST /register`, as the registration mode allows: open signs in at once, approval waits, closed refuses."""
    users.require_mode()
    _single_user_refuses("registration")
    mode = SETTINGS.registration
    if mode == rules.CLOSED:
        raise ForbiddenError("Registration is closed on this deployment: an admin creates accounts")
    pending = mode == rules.APPROVAL
    user = create_user(body.get("username"), body.get("password"), body.get("email"), body.get("display_name"),
                       pending=pending)
    if pending:
        return {"message": f"User `{user['username']}` registered; the account awaits an admin's approval "
                           "before it can sign in", "user": user, "pending": True}
    return {"message": "User registered", "user": user, **users.make_tokens(_load(user["username"]))}


def _load(username: str) -> UserModel:
    try:
        return users.get_model(username)
    except DoesNotExist as exc:
        raise NotFoundError(f"User `{username}` not found") from exc


def _update(model: UserModel, actions: list, condition: Any = None) -> None:
    """One conditional write on an existing user (never re-creates a user between a read and the write)."""
    check = UserModel.username.exists() if condition is None else UserModel.username.exists() & condition
    try:
        model.update(actions=actions, condition=check)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise ConflictError(f"User `{model.username}` changed meanwhile (or is gone); reload and retry") from exc


def get_user(username: str, caller: Caller) -> dict:
    """`GET /user[/{username}]`: yourself in full, others by their public fields (admins see all)."""
    return user_dict(_load(username), username == caller or caller.can(IAMPolicies.IS_ADMIN))


def update_user(body: dict, caller: Caller) -> dict:
    """`POST /user`: change display name, settings or password; admins also policies and `active`.

    A password change or a deactivation bumps the token version, which revokes every token issued
    before; whoever changed their own password gets fresh tokens in the answer.
    """
    raw = body.get("user", body)
    if not isinstance(raw, dict):
        raise BadRequestError("`user` must be a JSON object")
    username = raw.get("username") or str(caller)
    is_admin = caller.can(IAMPolicies.IS_ADMIN)
    if username != caller and not is_admin:
        raise ForbiddenError(f"`{caller}` may not change user `{username}` (needs IS_ADMIN)")
    if not SETTINGS.secret_key and {"password", "policies", "active"} & set(raw):
        raise BadRequestError("Single-user mode (no secret key): `default` keeps an empty password, every "
                              "policy and stays active; only `display_name` and `settings` change")
    for admin_field in ("policies", "active"):
        if admin_field in raw and not is_admin:
            raise ForbiddenError(f"Only admins may change `{admin_field}` (needs IS_ADMIN)")
    model = _load(username)
    actions = []
    revoke = False
    if "display_name" in raw:
        if not isinstance(raw["display_name"], str):
            raise BadRequestError("`display_name` must be a string")
        actions.append(UserModel.display_name.set(raw["display_name"]))
    if "settings" in raw:
        settings = raw["settings"]
        if not isinstance(settings, dict) or len(str(settings)) > _MAX_SETTINGS_BYTES:
            raise BadRequestError(f"`settings` must be a JSON object under {_MAX_SETTINGS_BYTES} bytes")
        actions.append(UserModel.settings.set(settings))
    if "password" in raw:
        # Even an admin gives their own old password: a stolen admin token alone cannot lock the admin out.
        if (username == caller or not is_admin) and not passwords.verify(str(raw.get("old_password", "")),
                                                                         model.password_hash):
            raise ForbiddenError("`old_password` is wrong")
        actions.append(UserModel.password_hash.set(passwords.hash_password(passwords.check_new(raw["password"]))))
        revoke = True
    if "policies" in raw:
        policies = rules.check_policies(raw["policies"])
        if username == caller and IAMPolicies.IS_ADMIN not in policies:
            raise BadRequestError("An admin cannot drop their own IS_ADMIN (another admin or the users CLI can)")
        actions.append(UserModel.policies.set(policies))
    if "active" in raw:
        if username == caller and not raw["active"]:
            raise BadRequestError("An admin cannot deactivate themselves (another admin or the users CLI can)")
        actions.append(UserModel.active.set(1 if raw["active"] else 0))
        revoke = revoke or not raw["active"]
    if revoke:
        actions.append(UserModel.token_version.add(1))
    if actions:
        _update(model, actions)
    answer: dict = {"user": user_dict(model, True)}
    if "password" in raw and username == caller:
        answer.update(users.make_tokens(model))
    return answer


# --- admins --------------------------------------------------------------------------------------


def _require_admin(caller: Caller) -> None:
    _single_user_refuses("user management")
    caller.require(IAMPolicies.IS_ADMIN, "manage users")


def list_users(caller: Caller | None = None, pending_only: bool = False) -> list[dict]:
    """Every user, pending ones first (the table is small); `caller` None is the CLI."""
    if caller is not None:
        _require_admin(caller)
    found = [user_dict(model, True) for model in UserModel.scan()]
    if pending_only:
        found = [user for user in found if user["pending"]]
    return sorted(found, key=lambda user: (not user["pending"], user["username"]))


def admin_view(caller: Caller, query: dict | None) -> dict:
    """`GET /users`: what the admin view lists, and the choices it offers."""
    pending_only = str((query or {}).get("pending", "")).lower() in ("1", "true", "yes")
    return {"users": list_users(caller, pending_only), "known_policies": sorted(IAMPolicies.ALL),
            "default_policies": list(SETTINGS.default_policies), "registration": SETTINGS.registration}


def admin_create(body: dict, caller: Caller) -> dict:
    """`POST /users`: an admin creates an account (the only way in when registration is closed)."""
    _require_admin(caller)
    policies = body.get("policies")
    return create_user(body.get("username"), body.get("password"), body.get("email"), body.get("display_name"),
                       None if policies is None else rules.check_policies(policies))


def approve(username: str, caller: Caller | None = None) -> dict:
    """Let a pending account sign in (`POST /users/{username}/approve`, the CLI's `approve`)."""
    if caller is not None:
        _require_admin(caller)
    model = _load(username)
    try:
        model.update(actions=[UserModel.pending.remove()], condition=UserModel.pending == 1)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise ConflictError(f"User `{username}` is not waiting for approval") from exc
    return user_dict(model, True)


def set_policies(username: str, policies: Iterable[str]) -> dict:
    """The CLI's choice of what a user may do (takes effect at their next request: tokens carry no policies)."""
    model = _load(username)
    _update(model, [UserModel.policies.set(rules.check_policies(list(policies)))])
    return user_dict(model, True)


def set_active(username: str, active: bool) -> dict:
    """Let a user in again, or keep them out (revoking their tokens) without deleting what they made."""
    model = _load(username)
    _update(model, [UserModel.active.set(1)] if active else
            [UserModel.active.set(0), UserModel.token_version.add(1)])
    return user_dict(model, True)


def registration_mode() -> str:
    """Who may join, as the sign-in page needs to know: open, approval, closed (single-user: closed)."""
    return SETTINGS.registration if SETTINGS.secret_key else rules.CLOSED
