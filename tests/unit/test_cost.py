"""A run's cost estimate from what the engine recorded (chalicelib/domain/cost.py), on the default price table."""
from __future__ import annotations

import pytest

from chalicelib.domain import config, cost


def _op(node_id: str, placement: str, started: str | None, ended: str | None, attempts: int = 1,
        status: str = "SUCCESS") -> dict:
    return {"_id": node_id, "status": status, "started": started, "ended": ended, "attempts": attempts,
            "placement": placement}


def test_lambda_and_fargate_seconds_waits_and_retries() -> None:
    table = cost.prices()
    estimate = cost.run_cost([
        _op("a", "lambda", "2026-11-30 10:00:00.000Z", "2026-11-30 10:00:02.500Z"),
        _op("b", "lambda", "2026-11-30 10:00:00.000Z", "2026-11-30 10:00:01.000Z", attempts=3),
        _op("c", "fargate", "2026-11-30 10:00:03.000Z", "2026-11-30 10:10:03.000Z"),  # ten minutes
        _op("d", "fargate", "2026-11-30 10:00:03.000Z", "2026-11-30 10:00:13.000Z"),  # billed one minute
        _op("e", "lambda", None, None, attempts=0, status="RESTORED"),  # restored at APPROVE: no runner
    ], waited={"c"}, failed=False, table=table)
    assert estimate["lambda_gb_seconds"] == pytest.approx(3.5 * 1024 / 1024)
    assert estimate["fargate_vcpu_seconds"] == pytest.approx((600 + 60) * 1)
    assert estimate["fargate_gb_seconds"] == pytest.approx((600 + 60) * 4)
    # a 1, b 3 (retries), c 1 + Wait + Check, d 1 + Check; frame: Parallel, Mark succeeded; one Pass
    assert estimate["state_transitions"] == 1 + 3 + 3 + 2 + 2 + 1
    assert estimate["lambda_requests"] == 1 + 3 + 1 + 1  # a, b's attempts, c's Wait, Mark succeeded
    usd = (3.5 * 0.0000166667 + 6 * 0.0000002 + 660 / 3600 * 0.04048 + 2640 / 3600 * 0.004445
           + 12 / 1000 * 0.025)
    assert estimate["estimated_usd"] == pytest.approx(usd, abs=1e-8)


def test_a_malformed_price_table_is_a_configuration_error(monkeypatch) -> None:
    broken = dict(config.get_config(), costs={"lambda_memory_mb": "lots"})
    monkeypatch.setattr(config, "get_config", lambda: broken)
    with pytest.raises(config.ConfigError, match="costs.lambda_memory_mb"):
        cost.prices()


def test_durations_from_the_seeds_timestamps() -> None:
    assert cost.seconds("2026-11-30 10:00:00.250Z", "2026-11-30 10:00:01.000Z") == 0.75
    assert cost.seconds(None, "2026-11-30 10:00:01.000Z") == 0.0
    assert cost.seconds("2026-11-30 10:00:02.000Z", "2026-11-30 10:00:01.000Z") == 0.0


def test_each_fork_entered_is_one_more_transition() -> None:
    table = cost.prices()
    ops = [_op("s", "lambda", "2026-11-30 10:00:00.000Z", "2026-11-30 10:00:01.000Z")]
    plain = cost.run_cost(ops, waited=set(), failed=False, table=table)
    forked = cost.run_cost(ops, waited=set(), failed=False, table=table, forks=2)
    assert forked["state_transitions"] == plain["state_transitions"] + 2
    assert forked["lambda_requests"] == plain["lambda_requests"]  # a Parallel invokes nothing
