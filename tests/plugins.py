"""Plugins the test configuration (tests/data/plynx-config.yaml) plugs in without editing the core."""
from __future__ import annotations

import html

import plynx.node
from chalicelib.resource_types import BaseResource, PreviewObject
from plynx.node.utils import Group


class UpperText(BaseResource):
    """A seed-style resource plugin: text that is upper-cased after the operation writes it."""

    @staticmethod
    def prepare_output(filename: str, preview: bool = False) -> dict:
        if not preview:
            open(filename, "w").close()
        return {"outputs": filename}  # the seed's {NodeResources.OUTPUT: filename} form

    @staticmethod
    def postprocess_output(filename: str) -> str:
        with open(filename, encoding="utf-8") as handle:
            text = handle.read()
        with open(filename, "w", encoding="utf-8") as handle:
            handle.write(text.upper())
        return filename

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        return f'<pre class="upper-text">{html.escape(preview_object.head.decode("utf-8", "replace"))}</pre>'


@plynx.node.input(name="text", var_type="upper-text")
@plynx.node.output(name="length", var_type=int)
@plynx.node.operation(title="Measure shout", description="Length of an upper-cased text.", ship="source")
def measure(text):
    with open(text) as handle:
        return {"length": len(handle.read())}


COLLECTION = [Group(title="Test plugins", items=[measure])]
