"""The pure parts of signing in: which counters an attempt touches, password rules, the dummy hash."""
from __future__ import annotations

import pytest

from chalicelib.domain import accounts, passwords
from chalicelib.domain.errors import BadRequestError
from chalicelib.store import throttle


def test_counters_are_the_user_and_the_address_an_ipv6_host_by_its_64() -> None:
    assert throttle.keys("alice", "203.0.113.9") == ["user#alice", "addr#203.0.113.9"]
    # one host gets a whole /64: every address in it is one counter
    assert throttle.keys(None, "2001:db8:1:2::1") == throttle.keys(None, "2001:db8:1:2:ffff::9") == [
        "addr#2001:db8:1:2::/64"]
    assert throttle.keys(None, "::ffff:203.0.113.9") == ["addr#203.0.113.9"]  # IPv4 over IPv6 is IPv4
    assert throttle.keys("alice", "not-an-address") == ["user#alice"]
    assert throttle.keys(None, None) == []


def test_password_rules_and_the_dummy_hash() -> None:
    with pytest.raises(BadRequestError, match="INVALID_LENGTH_OF_PASSWORD"):
        passwords.check_new("1234567")
    with pytest.raises(BadRequestError, match="EMPTY_PASSWORD"):
        passwords.check_new("")
    assert passwords.check_new("12345678") == "12345678"
    stored = passwords.hash_password("right-password")
    assert passwords.verify("right-password", stored) and not passwords.verify("wrong-password", stored)
    # no user, no password, a malformed hash: never a match, whatever is typed
    for nothing in (None, "", "not-a-hash"):
        assert not passwords.verify("", nothing) and not passwords.verify("right-password", nothing)


def test_registration_settings_are_checked() -> None:
    assert accounts.registration_mode(" Approval ", "env") == "approval"
    assert accounts.registration_mode(None, "env") == "open"
    with pytest.raises(ValueError, match="none of open, approval, closed"):
        accounts.registration_mode("invite-only", "env")
    assert accounts.default_policies("CAN_VIEW_WORKFLOWS, CAN_VIEW_OPERATIONS", "env") == (
        "CAN_VIEW_WORKFLOWS", "CAN_VIEW_OPERATIONS")
    with pytest.raises(ValueError, match="IS_ADMIN cannot be a default policy"):
        accounts.default_policies(["CAN_VIEW_WORKFLOWS", "IS_ADMIN"], "config")
    with pytest.raises(ValueError, match="unknown policies"):
        accounts.default_policies("CAN_FLY", "env")
