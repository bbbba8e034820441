"""The cloud package's figures: build time (cold and cached), sizes against Lambda's limits, and the
cold start of the packaged API and runner in a fresh interpreter. Offline, no credentials.

    .venv/bin/python bench/cloud_package.py [--stage dev] [--runs 5]

The cold build downloads the Lambda wheels (from pip's cache when it has them); `--runs` cold starts
each import `app` (or the runner) in a new process of a fresh virtualenv, as a new Lambda sandbox would.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
import zipfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra import deploy  # noqa: E402  (after the sys.path line)

HEALTH = ("import sys, os; sys.path.insert(0, os.environ['LAMBDA_TASK_ROOT']); import app; "
          "r = app.app({'resource': '/plynx/api/v0/health', 'path': '/plynx/api/v0/health', 'httpMethod': 'GET',"
          " 'headers': {}, 'multiValueHeaders': {}, 'queryStringParameters': None,"
          " 'multiValueQueryStringParameters': None, 'pathParameters': None,"
          " 'stageVariables': None, 'requestContext': {'resourcePath': '/plynx/api/v0/health', 'httpMethod': 'GET',"
          " 'stage': 'api', 'path': '/api/plynx/api/v0/health', 'requestId': 'x'}, 'body': None,"
          " 'isBase64Encoded': False}, None); assert r['statusCode'] == 200, r")
RUNNER = "import sys, os; sys.path.insert(0, os.environ['LAMBDA_TASK_ROOT']); import runners.handler"


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(result.stderr)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="dev", choices=deploy.STAGES)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull})

    with tempfile.TemporaryDirectory(prefix="plynx-bench-") as build:
        started = time.perf_counter()
        zip_path, _template = deploy.package_api(args.stage, build=build, env=env)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        zip_path, _template = deploy.package_api(args.stage, build=build, env=env)
        warm = time.perf_counter() - started
        zipped, unzipped = deploy.Package(args.stage, build, zip_path, _template, None).sizes()
        with zipfile.ZipFile(zip_path) as archive:
            files = len(archive.infolist())

        root = os.path.join(build, "lambda")
        started = time.perf_counter()
        venv.EnvBuilder(with_pip=False).create(os.path.join(root, "venv"))
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(os.path.join(root, "task"))
        unpack = time.perf_counter() - started
        python = os.path.join(root, "venv", "bin", "python")
        run_env = {"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": os.path.join(root, "task"),
                   "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
        api = [_timed([python, "-c", HEALTH], run_env) for _ in range(args.runs)]
        runner = [_timed([python, "-c", RUNNER], run_env) for _ in range(args.runs)]

    print(json.dumps({
        "stage": args.stage,
        "chalice_package_cold_s": round(cold, 1),
        "chalice_package_cached_s": round(warm, 1),
        "zip_mib": round(zipped / deploy.MIB, 1), "zip_limit_mib": 50,
        "unzipped_mib": round(unzipped / deploy.MIB, 1), "unzipped_limit_mib": 250,
        "files": files,
        "fresh_venv_and_unzip_s": round(unpack, 2),
        "api_cold_import_and_request_s_median": round(statistics.median(api), 2),
        "runner_cold_import_s_median": round(statistics.median(runner), 2),
    }, indent=2))


if __name__ == "__main__":
    main()
