"""`python -m plynx`: the `plynx` command (plynx/cli), where the console script is not on PATH."""
from __future__ import annotations

from plynx.cli import entry_point

entry_point()
