"""Everything a script needs: `from plynx.api import Client, Graph, operation, input, output, param, Group`."""
from __future__ import annotations

from plynx.node import input, operation, output, param, parameter, to_node
from plynx.node.utils import Group

from .client import Client, PlynxError, Run, progress_line
from .graph import Graph, NodeRef, OutputRef

__all__ = ["Client", "Graph", "Group", "NodeRef", "OutputRef", "PlynxError", "Run", "input", "operation",
           "output", "param", "parameter", "progress_line", "to_node"]
