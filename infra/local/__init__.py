"""The local stack: embedded moto (with Step Functions execution), the Chalice API and the UI in one process.

Run it with ``python -m infra.local``; from code use :func:`infra.local.stack.start_stack`.
"""
from __future__ import annotations

from typing import Any

__all__ = ["LocalStack", "start_stack"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing the package sets no env and imports neither moto nor the project's modules.
    if name in __all__:
        from . import stack

        return getattr(stack, name)
    raise AttributeError(name)
