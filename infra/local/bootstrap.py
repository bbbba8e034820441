"""What CloudFormation makes in the cloud, made on the local stack's moto: tables, bucket, role, first user.

The project's modules read their endpoints when first imported, so they are imported here only once the
stack has set the environment (inside the functions).
"""
from __future__ import annotations

import json
import logging
from typing import Any

LOG = logging.getLogger(__name__)

STATE_MACHINE_ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def create_tables() -> None:
    """Create every table of the models that does not exist yet; add indexes a saved stack's tables lack."""
    from chalicelib.store.models import ALL_MODELS

    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
        else:
            _add_missing_indexes(model)


def _add_missing_indexes(model: Any) -> None:
    """Indexes added to a model since its table was made (a local stack's saved data) are created; one whose
    projected attributes changed since (the search index gained `archived`) is made again."""
    from chalicelib.store import aws

    have = {index["IndexName"]: index for index in model.describe_table().get("GlobalSecondaryIndexes", [])}
    schema = model._get_schema()
    for index in schema.get("global_secondary_indexes", []):
        if index["index_name"] in have:
            projected = set(have[index["index_name"]].get("Projection", {}).get("NonKeyAttributes", []))
            if projected == set(index["projection"].get("NonKeyAttributes", [])):
                continue
            aws.client("dynamodb").update_table(TableName=model.Meta.table_name, GlobalSecondaryIndexUpdates=[
                {"Delete": {"IndexName": index["index_name"]}}])
        keys = {key["AttributeName"] for key in index["key_schema"]}
        aws.client("dynamodb").update_table(
            TableName=model.Meta.table_name,
            AttributeDefinitions=[d for d in schema["attribute_definitions"] if d["AttributeName"] in keys],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": index["index_name"], "KeySchema": index["key_schema"],
                "Projection": index["projection"]}}],
        )


def create_bucket() -> None:
    """Create the artifacts bucket if missing."""
    from botocore.exceptions import ClientError

    from chalicelib.store import aws
    from chalicelib.store.settings import SETTINGS

    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=SETTINGS.bucket)
    except ClientError:
        if SETTINGS.region == "us-east-1":
            s3.create_bucket(Bucket=SETTINGS.bucket)
        else:
            s3.create_bucket(Bucket=SETTINGS.bucket,
                             CreateBucketConfiguration={"LocationConstraint": SETTINGS.region})
    wanted = upload_cors(SETTINGS.ui_url)
    try:
        current = {"CORSRules": s3.get_bucket_cors(Bucket=SETTINGS.bucket)["CORSRules"]}
    except ClientError:  # NoSuchCORSConfiguration
        current = None
    if current != wanted:  # a restart changes nothing (a change the journal does not cover costs a snapshot)
        s3.put_bucket_cors(Bucket=SETTINGS.bucket, CORSConfiguration=wanted)


def upload_cors(ui_url: str) -> dict:
    """The UI's origin only may PUT upload parts from the browser and read their ETag (the template's rule)."""
    from urllib.parse import urlsplit

    parts = urlsplit(ui_url)
    return {"CORSRules": [{"AllowedOrigins": [f"{parts.scheme}://{parts.netloc}"], "AllowedMethods": ["PUT"],
                           "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]}


def bootstrap(moto_endpoint: str) -> None:
    """Tables, bucket, the state machine role and the single-user mode's user; close interrupted runs."""
    import boto3
    from botocore.exceptions import ClientError

    from chalicelib.store.settings import SETTINGS

    from chalicelib.store.models import GraphModel, OwnerModel

    # saved data from before resource owners were recorded: record them once, so its users still read it
    upgrading = GraphModel.exists() and not OwnerModel.exists()
    create_tables()
    create_bucket()
    from chalicelib.store import schedules

    schedules.ensure_group()  # the template's ScheduleGroup
    role_name = SETTINGS.state_machine_role_arn.rsplit("/", 1)[-1]
    iam = boto3.session.Session().client("iam", region_name=SETTINGS.region, endpoint_url=moto_endpoint)
    try:
        iam.get_role(RoleName=role_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(STATE_MACHINE_ROLE_TRUST))

    from chalicelib.api import users
    from chalicelib.engine import settle

    users.ensure_default_user()
    if upgrading:
        from chalicelib.api import resource_access

        LOG.warning("Recorded %d resource owner(s) of saved data", resource_access.backfill())
    # Executions cut off by the last stop came back ABORTED: close their graphs' runs.
    closed = settle.reconcile_active(restarted=True)
    if closed:
        LOG.warning("Closed %d run(s) interrupted by the last stop: %s", len(closed), ", ".join(closed))
