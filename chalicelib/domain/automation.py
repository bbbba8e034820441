"""Triggers and notifications, the pure part: token hashes, signatures, settings, which addresses a webhook
may reach. A trigger's token is stored only as its SHA-256 (like a password reset token: it is random and
long, so a plain hash is enough and lets the token be looked up by its hash); a notification is signed
HMAC-SHA256 over `timestamp.body`, as Stripe does, so a receiver can refuse replays and forgeries."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from typing import Any
from urllib.parse import urlsplit

from .accounts import check_email
from .errors import BadRequestError

TOKEN_BYTES = 32  # 256 bits: no throttle is needed against guessing, the throttle stops noise
SIGNATURE_HEADER = "X-Plynx-Signature"  # `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
TIMESTAMP_HEADER = "X-Plynx-Timestamp"
EVENT_HEADER = "X-Plynx-Event"
ON_CHOICES = ("success", "failure", "both", "never")
# `failure` is every end that is not a success: FAILED and CANCELED.
ENDS = {"SUCCESS": ("success", "both"), "FAILED": ("failure", "both"), "CANCELED": ("failure", "both")}
URL_MAX = 2048


def new_token() -> str:
    """A trigger token (URL-safe), shown once."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored and looked up: the token itself never is."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    """A signing secret for one user's notifications of one graph."""
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """What a receiver does (README): recompute, compare in constant time, refuse stale timestamps."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, fields.get("v1", ""))


def check_url(url: Any) -> str | None:
    """A webhook URL as given: http(s), a host, no credentials in it; None or "" clears it (400 otherwise)."""
    if url is None or url == "":
        return None
    if not isinstance(url, str) or len(url) > URL_MAX:
        raise BadRequestError(f"`webhook_url` must be a URL of at most {URL_MAX} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequestError("`webhook_url` must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise BadRequestError("`webhook_url` must not carry credentials; sign with the secret instead")
    try:
        parts.port
    except ValueError as exc:
        raise BadRequestError(f"`webhook_url` has a bad port: {exc}") from exc
    return url


def check_settings(body: Any) -> dict:
    """A user's notification settings for one graph: `on`, `webhook_url`, `email` (an address; 400 otherwise)."""
    if not isinstance(body, dict):
        raise BadRequestError("The body must be a JSON object")
    unknown = set(body) - {"on", "webhook_url", "email"}
    if unknown:
        raise BadRequestError(f"Unknown notification field(s): {sorted(unknown)}")
    on = body.get("on", "both")
    if on not in ON_CHOICES:
        raise BadRequestError(f"`on` must be one of {list(ON_CHOICES)}")
    # An address, not the account's: SNS mails it once to confirm the subscription before anything else.
    return {"on": on, "webhook_url": check_url(body.get("webhook_url")), "email": check_email(body.get("email"))}


def wanted(on: str, run_status: str) -> bool:
    """Whether a user who chose `on` hears of a run that ended `run_status`."""
    return on in ENDS.get(run_status, ())


def address_refused(address: str, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not reach this address (None: it may): private, loopback, link-local (the
    metadata service at 169.254.169.254), multicast, reserved, unspecified, and their IPv4-mapped forms."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"`{address}` is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    for test, what in ((ip.is_link_local, "link-local (cloud metadata)"), (ip.is_private, "private"),
                       (ip.is_multicast, "multicast"), (ip.is_reserved, "reserved"),
                       (ip.is_unspecified, "unspecified"), (not ip.is_global, "not public")):
        if test:
            return f"{ip} is a {what} address"
    return None
