"""Run retention settings: numbers from the environment or the config; a bad one stops start-up."""
from __future__ import annotations

import pytest

from chalicelib.domain.config import ConfigError
from chalicelib.store import settings


def test_retention_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLYNX_RUNS_KEEP", "7")
    monkeypatch.setenv("PLYNX_RUNS_KEEP_DAYS", "1.5")
    loaded = settings.load()
    assert (loaded.runs_keep, loaded.runs_keep_days) == (7, 1.5)


@pytest.mark.parametrize("name,value", [("PLYNX_RUNS_KEEP", "0"), ("PLYNX_RUNS_KEEP", "many"),
                                        ("PLYNX_RUNS_KEEP_DAYS", "-1")])
def test_a_bad_retention_stops_start_up(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        settings.load()
