"""`make deploy` and `make teardown` plan before they act; a dry run prints the plan offline."""
from __future__ import annotations

import json
from typing import Any

import pytest

from infra import deploy
from tests.infra import support


@pytest.mark.slow  # runs `chalice package` (about a minute on a loaded machine)
def test_deploy_dry_run_packages_offline_and_prints_the_plan(capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert deploy.main(["deploy", "--stage", "dev", "--dry-run", "--no-ui", "--build-dir", str(tmp_path),
                        "--cache-dir", support.CHALICE_CACHE]) == 0
    printed = capsys.readouterr().out
    assert "MiB zipped" in printed
    steps = [line for line in printed.splitlines() if line.startswith("[")]
    assert [s.split("] ")[0] for s in steps] == [f"[{i}/6" for i in range(1, 7)]
    assert "secret key /plynx/dev/secret-key" in steps[1]  # multi-user unless --single-user
    assert "create or update stack plynx-dev" in steps[2] and "/config.json" in steps[4]


def test_teardown_of_prod_needs_force() -> None:
    ctx = deploy.Context("prod", "us-east-1")
    with pytest.raises(SystemExit, match="--force"):
        deploy.teardown_plan(ctx)
    titles = [step.title for step in deploy.teardown_plan(ctx, force=True)]
    assert any("deletion protection" in t for t in titles) and any("graph state machines" in t for t in titles)
    assert titles.index("empty the artifacts and UI buckets") < titles.index("delete stack plynx-prod and wait")


def test_code_location_points_every_chalice_function_at_the_uploaded_zip() -> None:
    template = {"Resources": {
        "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
        "ExecutionEnded": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
        **support.template()["Resources"],
    }}
    located = deploy.with_code_location(template, "plynx-deploy-1-us-east-1", "dev/abc.zip")
    for name in ("APIHandler", "ExecutionEnded"):
        assert located["Resources"][name]["Properties"]["CodeUri"] == {"Bucket": "plynx-deploy-1-us-east-1",
                                                                        "Key": "dev/abc.zip"}
    # The runner reads the same zip through the CodeBucket/CodeKey parameters.
    assert located["Resources"]["RunnerFunction"]["Properties"]["Code"] == {"S3Bucket": {"Ref": "CodeBucket"},
                                                                            "S3Key": {"Ref": "CodeKey"}}


def test_the_ui_config_names_the_stage_api_as_the_local_stack_does() -> None:
    url = deploy.api_url("https://abc123.execute-api.eu-west-1.amazonaws.com/api/")
    assert url == "https://abc123.execute-api.eu-west-1.amazonaws.com/api/plynx/api/v0"
    assert json.loads(deploy.site_config(url)) == {"api_url": url}
