"""Graph in, Amazon States Language out: a pure compiler with no AWS calls."""
from .compiler import CompileError, Fargate, Limits, Program, compile_graph, compile_program, placement
from .dag import operation_levels, plan

__all__ = ["CompileError", "Fargate", "Limits", "Program", "compile_graph", "compile_program", "operation_levels",
           "placement", "plan"]
