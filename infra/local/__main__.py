"""``python -m infra.local``: run the local stack until Ctrl-C or SIGTERM.

Environment: PLYNX_API_PORT (5005), PLYNX_UI_PORT (3001), PLYNX_MOTO_PORT (5010),
PLYNX_DATA_DIR (``.local-data`` in the repository root; empty = no persistence), PLYNX_HOST (127.0.0.1).
``--secret-key KEY`` (or PLYNX_SECRET_KEY) turns on the multi-user mode, as the seed's API server's flag.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a port number, not {value!r}") from None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description="Run PLynx on one machine.")
    parser.add_argument("--secret-key", help="multi-user mode: the key that signs tokens")
    args = parser.parse_args()
    if args.secret_key:
        os.environ["PLYNX_SECRET_KEY"] = args.secret_key
    # The project's settings are read when first imported, so the stack is imported after the flags.
    from .stack import REPO_ROOT, start_stack

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api_port = _port("PLYNX_API_PORT", 5005)
    ui_port = _port("PLYNX_UI_PORT", 3001)
    moto_port = _port("PLYNX_MOTO_PORT", 5010)
    host = os.environ.get("PLYNX_HOST", "").strip() or "127.0.0.1"
    data_dir_env = os.environ.get("PLYNX_DATA_DIR")
    if data_dir_env is None:
        data_dir: str | None = os.path.join(REPO_ROOT, ".local-data")
    else:
        data_dir = data_dir_env.strip() or None

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    stack = start_stack(api_port, ui_port, moto_port, data_dir, host)
    print(
        "\n".join(
            [
                f"PLynx local stack is up ({stack.startup_seconds:.1f} s"
                + (f", state restored in {stack.restore_seconds:.1f} s with {stack.replayed} journal record(s)"
                   if stack.restored else "")
                + ")",
                f"  UI:    {stack.ui_url}",
                f"  API:   {stack.api_url}",
                ("  users: multi-user; add one: make users ARGS=\"create NAME --admin\""
                 if os.environ.get("PLYNX_SECRET_KEY") else
                 f"         curl -u default: http://localhost:{api_port}/plynx/api/v0/graphs/new"),
                f"  moto:  {stack.moto_url}  (AWS endpoint for boto3/aws-cli; signed requests only, keys: "
                + (f"AWS_SHARED_CREDENTIALS_FILE={stack.credentials_path})" if stack.credentials_path else
                   "stack.credentials, not persisted)"),
                f"  data:  {stack.data_dir or 'not persisted (PLYNX_DATA_DIR is empty)'}"
                + (" (snapshot, journal of every acknowledged write, S3 bodies as files)" if stack.data_dir else ""),
                "  logs:  below, one line a record (PLYNX_LOG_FORMAT=json: JSON lines, as in CloudWatch)"
                + (f"; metrics: {os.environ['PLYNX_METRICS_FILE']} (EMF)" if stack.data_dir else ""),
                "Ctrl-C to stop.",
            ]
        ),
        flush=True,
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        print("Stopping...", flush=True)
        stack.stop()
        print("Stopped" + (f"; state saved to {stack.snapshot_path}" if stack.snapshot_path else "."), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
