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


def _config_bucket() -> str:
    """The config file's `storage: bucket` (the environment wins)."""
    from chalicelib.domain.config import setting

    return setting("storage", "bucket") or "plynx-artifacts"


def load() -> Settings:
    """Read settings once per process; tests and the local stack set the env before importing."""
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    account = os.environ.get("PLYNX_ACCOUNT_ID", "123456789012")
    return Settings(
        region=region,
        endpoint_url=os.environ.get("PLYNX_AWS_ENDPOINT") or None,
        table_prefix=os.environ.get("PLYNX_TABLE_PREFIX", "plynx"),
        bucket=os.environ.get("PLYNX_BUCKET") or _config_bucket(),
        runner_function=os.environ.get(
            "PLYNX_RUNNER_FUNCTION", f"arn:aws:lambda:{region}:{account}:function:plynx-runner"
        ),
        state_machine_role_arn=os.environ.get(
            "PLYNX_STATE_MACHINE_ROLE_ARN", f"arn:aws:iam::{account}:role/plynx-state-machine"
        ),
        ui_url=os.environ.get("PLYNX_UI_URL", "http://localhost:3001"),
        secret_key=os.environ.get("PLYNX_SECRET_KEY") or _config_secret_key(),
    )


SETTINGS = load()
