"""Resource types (the seed's Resource plugins): how an artifact is prepared, post-processed and previewed."""
from __future__ import annotations

from .base import BaseResource, PreviewObject, ResourceError

__all__ = ["BaseResource", "PreviewObject", "ResourceError"]
