"""The notification sender's own rules, without a stack: signatures, which addresses a webhook may reach,
no redirects followed, a 4xx not retried, a failing receiver retried with backoff up to the cap."""
from __future__ import annotations

import time

import pytest

from chalicelib.domain import automation
from chalicelib.engine import notifications
from tests.functional.test_notifications import Receiver


@pytest.mark.parametrize("address,refused", [
    ("169.254.169.254", "link-local"), ("fd00:ec2::254", "private"), ("10.0.0.1", "private"),
    ("172.16.5.4", "private"), ("192.168.1.1", "private"), ("127.0.0.1", "loopback"), ("::1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"), ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "not public"),
    ("0.0.0.0", "private"), ("224.0.0.1", "multicast"), ("240.0.0.1", "private"), ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
])
def test_which_addresses_a_webhook_may_reach(address: str, refused: str | None) -> None:
    why = automation.address_refused(address)
    assert (why is None) if refused is None else (refused in why), why
    assert automation.address_refused("127.0.0.1", allow_loopback=True) is None
    assert automation.address_refused("169.254.169.254", allow_loopback=True) is not None


def test_a_signature_verifies_only_for_its_secret_body_and_time() -> None:
    header = automation.sign("whsec_a", 1_700_000_000, b'{"x":1}')
    assert automation.verify("whsec_a", header, b'{"x":1}', 1_700_000_100)
    assert not automation.verify("whsec_a", header, b'{"x":1}', 1_700_000_000 + 301)  # a replay, too late
    assert not automation.verify("whsec_b", header, b'{"x":1}', 1_700_000_000)
    assert not automation.verify("whsec_a", "t=x,v1=00", b'{"x":1}', 1_700_000_000)


@pytest.fixture()
def loopback(monkeypatch) -> None:
    monkeypatch.setenv("PLYNX_NOTIFY_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("PLYNX_NOTIFY_BACKOFF_SECONDS", "0.01")


def test_redirects_are_not_followed(loopback) -> None:
    receiver = Receiver([302, 302], {"Location": "http://169.254.169.254/latest/meta-data/"})
    try:
        result = notifications.deliver(receiver.url, "whsec_a", {"event": "run.ended"})
    finally:
        receiver.close()
    assert result["delivered"] is False and result["attempts"] == ["302"] and len(receiver.received) == 1


def test_a_failing_receiver_is_retried_with_backoff_up_to_the_cap(loopback) -> None:
    waits: list[float] = []
    receiver = Receiver([503] * 10)
    try:
        result = notifications.deliver(receiver.url, "whsec_a", {"event": "run.ended"}, sleep=waits.append)
    finally:
        receiver.close()
    assert result["delivered"] is False and result["attempts"] == ["503"] * notifications.ATTEMPTS
    assert waits == [0.01, 0.02, 0.04] and len(receiver.received) == notifications.ATTEMPTS


def test_an_unreachable_receiver_is_retried_and_a_refused_host_is_not_tried(loopback, monkeypatch) -> None:
    from infra.local.stack import free_port

    result = notifications.deliver(f"http://127.0.0.1:{free_port()}/", "s", {"event": "run.ended"}, sleep=lambda s: None)
    assert not result["delivered"] and len(result["attempts"]) == notifications.ATTEMPTS
    monkeypatch.setenv("PLYNX_NOTIFY_ALLOW_LOOPBACK", "false")
    started = time.monotonic()
    result = notifications.deliver("http://localhost:1/", "s", {"event": "run.ended"}, sleep=lambda s: None)
    assert "loopback" in result["refused"] and result["attempts"] == [] and time.monotonic() - started < 5
