"""Upload throughput of a big file through presigned S3 parts (python API), on a local stack.

    .venv/bin/python bench/upload.py [--mb 1024] [--api http://localhost:5005/plynx/api/v0]

Prints MB/s of the whole `Client.upload_file` (create, PUT every part, complete) and how long the
completion took (the server reading the object back, hashing it and copying it to resources/).
Without --api it starts its own stack on free ports.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from plynx.api import Client  # noqa: E402

MB = 1024 * 1024


def _file(directory: str, size: int) -> tuple[str, str]:
    path, digest = os.path.join(directory, "big.bin"), hashlib.sha256()
    block = os.urandom(MB)
    with open(path, "wb") as stream:
        for i in range(0, size, MB):
            chunk = block[: min(MB, size - i)] if i % (7 * MB) else os.urandom(min(MB, size - i))
            digest.update(chunk)
            stream.write(chunk)
    return path, digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--api", default=None)
    args = parser.parse_args()
    stack, api = None, args.api
    if api is None:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from infra.local.stack import start_stack

        stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
        api = stack.api_url
    try:
        with tempfile.TemporaryDirectory() as directory:
            path, sha = _file(directory, args.mb * MB)
            client = Client(api)
            completing: list[float] = []
            call = client.call

            def timed(method: str, route: str, **kwargs: object) -> dict:
                started = time.monotonic()
                try:
                    return call(method, route, **kwargs)
                finally:
                    if route.endswith("/complete"):
                        completing.append(time.monotonic() - started)

            client.call = timed  # type: ignore[method-assign]
            started = time.monotonic()
            node = client.upload_file(path, title="bench", stream=io.StringIO())
            seconds = time.monotonic() - started
            assert node["outputs"][0]["resource_id"] == sha, "the content id is not the file's SHA-256"
        print(f"upload of {args.mb} MB through presigned parts: {seconds:.1f} s, {args.mb / seconds:.1f} MB/s "
              f"(completion: hash + copy to resources/ {completing[0]:.1f} s, "
              f"{args.mb / completing[0]:.0f} MB/s)")
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
