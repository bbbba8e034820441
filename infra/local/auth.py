"""Signed requests only: the local control plane's own IAM access key, checked on every request to moto.

moto accepts any keys by default, so an operation that knows the local endpoint could read and write every
table with made-up ones. Here the stack creates an IAM user in moto's IAM with an access key of its own (one
per process, rotated at every start: a key read from an old snapshot is dead), and the front
(infra/local/lambda_front.py) verifies every request's SigV4 signature (Authorization header, or a presigned
URL's query) against the active keys of moto's IAM users before moto sees it. Unsigned requests, unknown
keys and wrong signatures are refused with 403, and so is moto's own `/moto-api` (state dump, reset).

moto's own emulation (`INITIAL_NO_AUTH_ACTION_COUNT` = 0) does the same and evaluates IAM policies too; it
was measured at 0.7 ms of CPU per request on the stack's one interpreter lock (a policy evaluation, a scan
of every account for the key), it fails unsigned requests with a 500 (a KeyError) and cannot read presigned
URLs, and it does not see Lambda Invoke (served by the front). The control plane's user is allowed
everything, so what the barrier needs is authentication: that is what is checked here, in about 0.1 ms.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import os
import re
import secrets
import string
import threading
from typing import Any, Callable
from urllib.parse import parse_qsl, quote

from botocore.utils import remove_dot_segments

CONTROL_PLANE_USER = "plynx-local-control-plane"
ADMIN_POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
ACCOUNT_ID = "123456789012"  # moto's default account, where the stack's resources live

_KEY: list[tuple[str, str]] = []
_KEY_LOCK = threading.Lock()


def process_key() -> tuple[str, str]:
    """This process's control-plane key (id, secret): the same for every stack it starts, so SDK clients
    built for one (chalicelib keeps its clients for the process's life) still sign right for the next."""
    with _KEY_LOCK:
        if not _KEY:
            alphabet = string.ascii_uppercase + string.digits
            _KEY.append(("AKIA" + "".join(secrets.choice(alphabet) for _ in range(16)), secrets.token_urlsafe(30)))
        return _KEY[0]


def install() -> tuple[str, str]:
    """Create (or take over) the control plane's IAM user in moto with this process's key, its only one."""
    from moto.iam.models import iam_backends

    key_id, secret = process_key()
    backend = iam_backends[ACCOUNT_ID]["aws"]
    try:
        user = backend.get_user(CONTROL_PLANE_USER)
    except Exception:  # noqa: BLE001 - moto's NoSuchEntity
        user = backend.create_user(region_name="us-east-1", user_name=CONTROL_PLANE_USER, path="/", tags=[])
    backend.put_user_policy(CONTROL_PLANE_USER, "control-plane", ADMIN_POLICY)
    for old in list(user.access_keys):
        backend.access_keys.pop(old.physical_resource_id, None)
        user.access_keys.remove(old)
    key = user.create_access_key(prefix="AKIA")
    key.access_key_id, key.secret_access_key = key_id, secret
    backend.access_keys[key.physical_resource_id] = key
    return key_id, secret


class Refused(Exception):
    """A request the local control plane does not accept, with the error AWS would give."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _secret(key_id: str) -> str:
    from moto.iam.models import iam_backends

    for partition in iam_backends[ACCOUNT_ID].values():
        key = partition.access_keys.get(key_id)
        if key is not None and key.status == "Active" and key.user_name:
            return key.secret_access_key
    raise Refused("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")


@functools.lru_cache(maxsize=64)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_presigned(method: str, raw_path: str, query: str, headers: Any) -> None:
    """Verify a SigV4 query-string signature (a presigned S3 URL) against the key moto knows; Refused if not."""
    params = parse_qsl(query, keep_blank_values=True)
    values = dict(params)
    try:
        key_id, date, region, service, _ = values["X-Amz-Credential"].split("/")
        stamp = datetime.datetime.strptime(values["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        expires = int(values["X-Amz-Expires"])
        signed = values["X-Amz-SignedHeaders"].split(";")
        signature = values["X-Amz-Signature"]
    except (KeyError, ValueError) as exc:
        raise Refused("AuthorizationQueryParametersError", f"Malformed presigned URL: {exc}", 400) from exc
    if datetime.datetime.now(datetime.timezone.utc) > stamp + datetime.timedelta(seconds=expires):
        raise Refused("AccessDenied", "Request has expired")
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                               for k, v in sorted(params) if k != "X-Amz-Signature")
    canonical_headers = "".join(f"{name}:{' '.join((headers.get(name) or '').split())}\n" for name in signed)
    canonical = "\n".join([method, raw_path, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", values["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(_signing_key(_secret(key_id), date, region, service), to_sign.encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Refused("SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided.")


_AUTHORIZATION = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
                            r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*"
                            r"Signature=(?P<signature>[0-9a-f]{64})$")


def check_signed(method: str, raw_path: str, query: str, headers: Any, body: Callable[[], bytes]) -> None:
    """Verify a request's SigV4 Authorization header against the keys in moto's IAM; Refused if it fails.

    As botocore signs: the path as sent (S3) or normalised and encoded again (other services), the query's
    pairs as sent and sorted, the signed headers with their whitespace collapsed, and the payload's hash
    (the X-Amz-Content-SHA256 header when the client sent one, else the body's; `body` is read only then).
    """
    authorization = headers.get("Authorization")
    if authorization is None:
        raise Refused("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTHORIZATION.match(authorization)
    amz_date = headers.get("X-Amz-Date") or ""
    if match is None or amz_date[:8] != match["date"]:
        raise Refused("IncompleteSignatureException", "Authorization header is not a valid AWS SigV4 signature", 400)
    service, signed = match["service"], match["signed"]
    uri = raw_path if service == "s3" else quote(remove_dot_segments(raw_path), safe="/~")
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&") if pair)
    canonical_query = "&".join(f"{key}={value}" for key, value in pairs)
    canonical_headers = "".join(f"{name}:{' '.join((headers.get(name) or '').split())}\n" for name in signed.split(";"))
    payload = headers.get("X-Amz-Content-SHA256") or hashlib.sha256(body()).hexdigest()
    canonical = "\n".join([method, uri, canonical_query, canonical_headers, signed, payload])
    scope = f"{match['date']}/{match['region']}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _signing_key(_secret(match["key"]), match["date"], match["region"], service)
    if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), match["signature"]):
        raise Refused("SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided.")


def credentials_file(directory: str, key: tuple[str, str]) -> str:
    """Write the control-plane key as an AWS shared credentials file (mode 0600) for the local CLIs."""
    path = os.path.join(directory, "aws-credentials")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(f"[default]\naws_access_key_id = {key[0]}\naws_secret_access_key = {key[1]}\n")
    os.chmod(path, 0o600)
    return path
