"""What the infrastructure tests share: the template as data, the models' expected tables, cfn-lint."""
from __future__ import annotations

import base64
import glob
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from infra import deploy
from tests.conftest import REPO

TEMPLATES = sorted(glob.glob(os.path.join(REPO, "infra", "cloudformation", "*.yaml"))
                   + glob.glob(os.path.join(REPO, "infra", "cloudformation", "*.json")))
STAGES = deploy.STAGES
# Chalice's dependency builds, shared by the tests' temporary build directories (concurrent runs of
# `make test` in one working tree must not share an output directory).
CHALICE_CACHE = os.path.join(deploy.BUILD, "cache")


def cfn_lint(*paths: str) -> subprocess.CompletedProcess:
    """cfn-lint as CI would run it (its exit code is non-zero on any error)."""
    script = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    return subprocess.run([script, "--", *paths], capture_output=True, text=True, timeout=300, check=False)


def template() -> dict:
    return deploy.load_template(deploy.TEMPLATE)


def chalice_config() -> dict:
    """.chalice/config.json as `make deploy` packages it (without what `make infra` writes for `chalice deploy`)."""
    from infra import chalice_config as config

    return config.for_package(config.load_config(), template())


def sub(value: Any, stage: str) -> Any:
    """A `Fn::Sub` of the stage alone, as CloudFormation would resolve it; anything else as it is."""
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"].replace("${Stage}", stage)
    return value


def model_schemas() -> dict[str, dict]:
    """Each pynamodb model's table, by its name without the prefix (`nodes`, `graph-nodes`, ...)."""
    from chalicelib.store import models
    from chalicelib.store.settings import SETTINGS

    prefix = SETTINGS.table_prefix + "-"
    schemas = {}
    for model in models.ALL_MODELS:
        name = model.Meta.table_name
        assert name.startswith(prefix), f"{model.__name__}'s table {name} does not start with {prefix}"
        schemas[name[len(prefix):]] = normalise(model._get_schema())
    return schemas


def normalise(schema: dict) -> dict:
    """Keys, attribute types and indexes, in an order-free form (pynamodb's schema or CloudFormation's)."""
    def keys(key_schema: list[dict]) -> dict:
        return {k["AttributeName"]: k["KeyType"] for k in key_schema}

    attributes = schema.get("attribute_definitions", schema.get("AttributeDefinitions", []))
    indexes = schema.get("global_secondary_indexes", schema.get("GlobalSecondaryIndexes", []))
    return {
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in attributes},
        "keys": keys(schema.get("key_schema", schema.get("KeySchema", []))),
        "indexes": {
            index.get("index_name", index.get("IndexName")): {
                "keys": keys(index.get("key_schema", index.get("KeySchema", []))),
                "projection": (index.get("projection") or index.get("Projection"))["ProjectionType"],
                "attributes": sorted((index.get("projection") or index.get("Projection")).get("NonKeyAttributes", [])),
            }
            for index in indexes
        },
        "local_indexes": sorted(i.get("index_name", i.get("IndexName")) for i in
                                schema.get("local_secondary_indexes", schema.get("LocalSecondaryIndexes", []))),
    }


def template_tables(tmpl: dict, stage: str = "dev") -> dict[str, tuple[str, dict]]:
    """The template's tables by name without `plynx-<stage>-`: (logical id, properties)."""
    prefix = f"plynx-{stage}-"
    tables = {}
    for logical_id, resource in tmpl["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            name = sub(resource["Properties"]["TableName"], stage)
            assert name.startswith(prefix), f"{logical_id}'s TableName {name} does not start with {prefix}"
            tables[name[len(prefix):]] = (logical_id, resource["Properties"])
    return tables


def cfn_table_yaml(name: str, schema: dict) -> str:
    """The template fragment a new model needs (printed when a model has no table yet)."""
    lines = [f"  {''.join(p.title() for p in name.split('-'))}Table:", "    Type: AWS::DynamoDB::Table",
             "    Properties:", f"      TableName: !Sub plynx-${{Stage}}-{name}", "      BillingMode: PAY_PER_REQUEST",
             "      AttributeDefinitions:"]
    lines += [f"        - {{AttributeName: {a}, AttributeType: {t}}}" for a, t in sorted(schema["attributes"].items())]
    lines.append("      KeySchema:")
    lines += [f"        - {{AttributeName: {a}, KeyType: {k}}}" for a, k in sorted(schema["keys"].items(),
                                                                                 key=lambda item: item[1])]
    return "\n".join(lines)


def moto_template(tmpl: dict) -> tuple[dict, list[str]]:
    """The template minus what moto's CloudFormation cannot create (and the outputs that read it)."""
    from moto.cloudformation.parsing import get_model_map

    supported = get_model_map()
    dropped = sorted(k for k, r in tmpl["Resources"].items() if r["Type"] not in supported)
    kept = {**tmpl, "Resources": {k: r for k, r in tmpl["Resources"].items() if k not in dropped}}
    # a kept resource's properties that read a dropped one (the artifacts bucket's CORS names the UI's domain)
    reads = re.compile("|".join(rf'"Ref": "{d}"|"Fn::GetAtt": \["{d}"|\$\{{{d}[.}}]' for d in dropped) or "^$")
    kept["Resources"] = {k: {**r, "Properties": {p: v for p, v in r.get("Properties", {}).items()
                                                 if not reads.search(json.dumps(v))}} if "Properties" in r else r
                         for k, r in kept["Resources"].items()}
    kept["Outputs"] = {k: o for k, o in tmpl.get("Outputs", {}).items()
                       if not any(d in json.dumps(o["Value"]) for d in dropped)}
    return kept, [f"{k} ({tmpl['Resources'][k]['Type']})" for k in dropped]


def api_gateway_delivers(answer: dict, accept: str | None, binary_media_types: list[str]) -> bytes:
    """What API Gateway sends the client for a Lambda proxy answer (tests/infra/lambda_driver.py's form): a
    base64-encoded answer is decoded only when the request's first Accept type is one of the REST API's binary
    media types, `*/*` there matching any request (none too); otherwise the client gets the base64 text. A
    `*/*` Accept matches no specific type (curl got base64 from Chalice's list: aws/chalice#1501)."""
    raw = base64.b64decode(answer["body_b64"])
    if not answer["base64"]:
        return raw
    first = (accept or "").split(",")[0].split(";")[0].strip().lower()
    if any(t == "*/*" or t.lower() == first for t in binary_media_types):
        return raw
    return answer["body_b64"].encode("ascii")


def moto_server(module: str = "moto.server") -> Iterator[str]:
    """A moto server in its own process on a free port (`module`: moto's, or infra/moto_server.py's with the
    API Gateway fixes `chalice deploy` needs); yields its URL, stops it after."""
    from infra.local.stack import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", module, "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def aws_client(moto_url: str, service: str) -> Any:
    """A client of the moto server with made-up keys (it checks none)."""
    import boto3

    return boto3.client(service, region_name="us-east-1", endpoint_url=moto_url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")
