"""Configuration read from the environment, so the same code runs on AWS and on the local stack."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Names and endpoints; on AWS they come from .chalice/config.json, locally from infra/local."""

    region: str
    endpoint_url: str | None
    table_prefix: str
    bucket: str
    runner_function: str
    state_machine_role_arn: str
    ui_url: str
    secret_key: str | None
    # Without a secret key the API serves only if single-user mode is asked for (the local stack does;
    # `make deploy --single-user` does): a deployment that lost its key must not open to everyone.
    single_user: bool = False
    registration: str = "open"  # chalicelib/domain/accounts.py: open | approval | closed
    default_policies: tuple[str, ...] = ()
    # Run records kept per graph (chalicelib/store/run_records.py): the newest `runs_keep`, and of those only
    # the ones younger than `runs_keep_days` (0: no age limit); the graph's current run is always kept.
    runs_keep: int = 100
    runs_keep_days: float = 0.0
    # Schedules (chalicelib/store/schedules.py): the stage's EventBridge Scheduler group, the role it assumes and
    # the function it invokes (app.py's schedule_fired), all from the stack's template.
    schedule_group: str = "plynx"
    scheduler_role_arn: str = "arn:aws:iam::123456789012:role/plynx-scheduler"
    schedule_function: str = "arn:aws:lambda:us-east-1:123456789012:function:plynx-schedule_fired"
    # The Lambda that prepares a run after APPROVE has answered (chalicelib/engine/preparation.py), invoked
    # asynchronously: `chalice deploy`'s `<app>-<stage>-prepare_run`; locally the stack's front serves it.
    prepare_function: str = "plynx-prepare_run"
    # The notifier (runners/notifier.py): EventBridge invokes it when an execution ends; the engine invokes it
    # the same way for a run that ends without one (restored whole, failed or canceled while preparing).
    notify_function: str = "plynx-notify"

    @property
    def nodes_table(self) -> str:
        return f"{self.table_prefix}-nodes"

    @property
    def graphs_table(self) -> str:
        return f"{self.table_prefix}-graphs"

    @property
    def graph_nodes_table(self) -> str:
        return f"{self.table_prefix}-graph-nodes"

    @property
    def users_table(self) -> str:
        return f"{self.table_prefix}-users"


def _config_secret_key() -> str | None:
    """The seed's `auth: secret_key` of the config file (the environment wins, as `--secret-key` does)."""
    from chalicelib.domain.config import setting

    return setting("auth", "secret_key") or None


def _parameter_secret_key(region: str, endpoint_url: str | None) -> str | None:
    """A `chalice deploy`ed function's key: config.json names its SSM parameter (infra/chalice_config.py),
    read once per cold start. Only where the function runs: `chalice deploy` imports app.py with the same
    variables, and reads no secret to deploy."""
    name = os.environ.get("PLYNX_SECRET_KEY_PARAMETER")
    if not name or not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return None
    import boto3

    ssm = boto3.client("ssm", region_name=region, endpoint_url=endpoint_url)
    return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] or None


def _config_bucket() -> str:
    """The config file's `storage: bucket` (the environment wins)."""
    from chalicelib.domain.config import setting

    return setting("storage", "bucket") or "plynx-artifacts"


def _registration() -> str:
    """Who may join: PLYNX_REGISTRATION, else the config's `auth: registration` (a bad value stops start-up)."""
    from chalicelib.domain.accounts import registration_mode
    from chalicelib.domain.config import ConfigError, setting

    value, source = os.environ.get("PLYNX_REGISTRATION"), "PLYNX_REGISTRATION"
    if not value:
        value, source = setting("auth", "registration"), "the config's auth.registration"
    try:
        return registration_mode(value, source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _default_policies() -> tuple[str, ...]:
    """A new account's policies: PLYNX_DEFAULT_POLICIES (comma-separated), else the config's list."""
    from chalicelib.domain import accounts
    from chalicelib.domain.config import ConfigError, setting
    from chalicelib.domain.enums import IAMPolicies

    value, source = os.environ.get("PLYNX_DEFAULT_POLICIES"), "PLYNX_DEFAULT_POLICIES"
    if not value:
        value, source = setting("auth", "default_policies", list(IAMPolicies.DEFAULT)), "auth.default_policies"
    try:
        return accounts.default_policies(value or [], source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _retention(name: str, env: str, default: float) -> float:
    """PLYNX_RUNS_KEEP / PLYNX_RUNS_KEEP_DAYS, else the config's `runs: keep / keep_days` (a bad value stops
    start-up, it would otherwise delete runs by mistake)."""
    from chalicelib.domain.config import ConfigError, setting

    value = os.environ.get(env) or setting("runs", name, default)
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"`{env}` / runs.{name} must be a number, not {value!r}") from exc
    if number < 0 or (name == "keep" and number < 1):
        raise ConfigError(f"`{env}` / runs.{name} must be {'at least 1' if name == 'keep' else 'positive or 0'}")
    return number


def load() -> Settings:
    """Read settings once per process; tests and the local stack set the env before importing."""
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    account = os.environ.get("PLYNX_ACCOUNT_ID", "123456789012")
    endpoint_url = os.environ.get("PLYNX_AWS_ENDPOINT") or None
    return Settings(
        region=region,
        endpoint_url=endpoint_url,
        table_prefix=os.environ.get("PLYNX_TABLE_PREFIX", "plynx"),
        bucket=os.environ.get("PLYNX_BUCKET") or _config_bucket(),
        runner_function=os.environ.get(
            "PLYNX_RUNNER_FUNCTION", f"arn:aws:lambda:{region}:{account}:function:plynx-runner"
        ),
        state_machine_role_arn=os.environ.get(
            "PLYNX_STATE_MACHINE_ROLE_ARN", f"arn:aws:iam::{account}:role/plynx-state-machine"
        ),
        ui_url=os.environ.get("PLYNX_UI_URL", "http://localhost:3001"),
        secret_key=(os.environ.get("PLYNX_SECRET_KEY") or _parameter_secret_key(region, endpoint_url)
                    or _config_secret_key()),
        single_user=os.environ.get("PLYNX_SINGLE_USER", "").strip().lower() in ("1", "true", "yes"),
        registration=_registration(),
        default_policies=_default_policies(),
        runs_keep=int(_retention("keep", "PLYNX_RUNS_KEEP", 100)),
        runs_keep_days=_retention("keep_days", "PLYNX_RUNS_KEEP_DAYS", 0.0),
        schedule_group=os.environ.get("PLYNX_SCHEDULE_GROUP") or os.environ.get("PLYNX_TABLE_PREFIX", "plynx"),
        scheduler_role_arn=os.environ.get("PLYNX_SCHEDULER_ROLE_ARN",
                                          f"arn:aws:iam::{account}:role/plynx-scheduler"),
        schedule_function=os.environ.get("PLYNX_SCHEDULE_FUNCTION",
                                         f"arn:aws:lambda:{region}:{account}:function:plynx-schedule_fired"),
        prepare_function=os.environ.get("PLYNX_PREPARE_FUNCTION", "plynx-prepare_run"),
        notify_function=os.environ.get("PLYNX_NOTIFY_FUNCTION", "plynx-notify"),
    )


SETTINGS = load()
