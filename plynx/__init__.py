"""PLynx python API: write operations as python functions, build graphs and run them on a PLynx server."""
from __future__ import annotations

__version__ = "0.1.0"
