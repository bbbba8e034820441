"""The dependency-wait protocol releases a parked branch exactly once, whoever comes last."""
from __future__ import annotations

import secrets
import threading


def test_park_and_concurrent_notifies_release_exactly_once(stack) -> None:
    from chalicelib import waits

    for _ in range(5):
        run_id = f"race-{secrets.token_hex(4)}"
        released: list[bool] = []
        deps = [f"d{i}" for i in range(8)]
        barrier = threading.Barrier(len(deps) + 1)

        def notify(dep: str) -> None:
            barrier.wait()
            released.extend(bool(waits.notify(run_id, dep, ["joiner"])) for _ in range(2))  # a retried runner

        def park() -> None:
            barrier.wait()
            # an unknown token: the callback fails harmlessly, the claim is what counts
            released.append(waits.park(run_id, "joiner", len(deps), "token-" + run_id))

        threads = [threading.Thread(target=notify, args=(dep,)) for dep in deps] + [threading.Thread(target=park)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert released.count(True) == 1, released


def test_a_wait_is_not_released_before_every_dependency(stack) -> None:
    from chalicelib import waits

    run_id = f"partial-{secrets.token_hex(4)}"
    assert waits.park(run_id, "joiner", 3, "token") is False
    assert waits.notify(run_id, "a", ["joiner"]) == []
    assert waits.notify(run_id, "a", ["joiner"]) == []  # the same dependency twice counts once
    assert waits.notify(run_id, "b", ["joiner"]) == []
    assert waits.notify(run_id, "c", ["joiner"]) == ["joiner"]
    assert waits.notify(run_id, "c", ["joiner"]) == []  # released once only
