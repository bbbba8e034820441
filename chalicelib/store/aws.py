"""One boto3 client per service per process: building clients is slow and they are thread-safe."""
from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
from botocore.config import Config

from .settings import SETTINGS

_LOCK = threading.Lock()  # building clients from one session is not thread-safe


@functools.lru_cache(maxsize=None)
def _session() -> boto3.session.Session:
    """One session for every service: each session loads the SDK's models again (memory, start-up time)."""
    return boto3.session.Session()


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    """A client pointed at AWS, or at the local stack when PLYNX_AWS_ENDPOINT is set."""
    with _LOCK:
        return _session().client(
            service,
            region_name=SETTINGS.region,
            endpoint_url=SETTINGS.endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": 5},
                max_pool_connections=50,
                # SigV4 presigned URLs work in every region (SigV2 does not in newer ones).
                signature_version="s3v4" if service == "s3" else None,
            ),
        )
