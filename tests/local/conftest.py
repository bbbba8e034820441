"""The local-stack tests start and stop their own stacks in this process; moto's state is
process-wide, so they run before anything that starts the session-wide stack (tests/conftest.py)."""
from __future__ import annotations

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(session, config, items):
    mine = [item for item in items if str(item.path).startswith(_HERE + os.sep)]
    others = [item for item in items if not str(item.path).startswith(_HERE + os.sep)]
    items[:] = mine + others
