"""The dependency-wait protocol releases a parked branch exactly once, whoever comes last."""
from __future__ import annotations

import secrets
import threading


def _race(run_id: str, deps: list[str]) -> list[bool]:
    """Every dependency notifies twice (a retried runner) while the branch parks, all at once."""
    from chalicelib.engine import waits

    released: list[bool] = []
    barrier = threading.Barrier(len(deps) + 1)

    def notify(dep: str) -> None:
        barrier.wait()
        released.extend(bool(waits.notify(run_id, dep, ["joiner"])) for _ in range(2))

    def park() -> None:
        barrier.wait()
        # an unknown token: the callback fails harmlessly, the claim is what counts
        released.append(waits.park(run_id, "joiner", len(deps), "token-" + run_id))

    threads = [threading.Thread(target=notify, args=(dep,)) for dep in deps] + [threading.Thread(target=park)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return released


def test_park_and_concurrent_notifies_release_exactly_once(stack) -> None:
    for _ in range(5):
        released = _race(f"race-{secrets.token_hex(4)}", [f"d{i}" for i in range(8)])
        assert released.count(True) == 1, released


def test_a_wait_is_not_released_before_every_dependency(stack) -> None:
    from chalicelib.engine import waits

    run_id = f"partial-{secrets.token_hex(4)}"
    assert waits.park(run_id, "joiner", 3, "token") is False
    assert waits.notify(run_id, "a", ["joiner"]) == []
    assert waits.notify(run_id, "a", ["joiner"]) == []  # the same dependency twice counts once
    assert waits.notify(run_id, "b", ["joiner"]) == []
    assert waits.notify(run_id, "c", ["joiner"]) == ["joiner"]
    assert waits.notify(run_id, "c", ["joiner"]) == []  # released once only
