"""The demo operations offered on a fresh start: hello world, basic functions and all types."""
from __future__ import annotations

from . import basic_functions, hello_world, types

hello_group = hello_world.GROUP
basic_group = basic_functions.GROUP
types_group = types.GROUP

COLLECTION = [hello_group, basic_group, types_group]
