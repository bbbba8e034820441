"""Graph in, Amazon States Language out: a pure compiler with no AWS calls."""
from .compiler import CompileError, compile_graph, operation_levels

__all__ = ["CompileError", "compile_graph", "operation_levels"]
