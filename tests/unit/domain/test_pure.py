"""The domain is pure: a fresh interpreter with no AWS settings imports all of it and loads no AWS SDK."""
from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import chalicelib.domain

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLOUD = ("boto3", "botocore", "pynamodb", "moto", "s3transfer", "aws_lambda_powertools")

PROBE = f"""
import importlib, json, sys
for name in {sorted(m.name for m in pkgutil.iter_modules(chalicelib.domain.__path__))!r}:
    importlib.import_module("chalicelib.domain." + name)
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def test_importing_every_domain_module_loads_no_aws_sdk_and_needs_no_aws_settings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PLYNX_", "MOTO_"))}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "chalicelib" in loaded
    assert not loaded & set(CLOUD), sorted(loaded & set(CLOUD))
