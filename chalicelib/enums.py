"""The seed's enumerations, as plain string constants so they serialise as themselves."""
from __future__ import annotations


class NodeRunningStatus:
    STATIC = "STATIC"
    CREATED = "CREATED"
    READY = "READY"
    IN_QUEUE = "IN_QUEUE"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    RESTORED = "RESTORED"
    FAILED = "FAILED"
    FAILED_WAITING = "FAILED_WAITING"
    CANCELED = "CANCELED"
    SPECIAL = "SPECIAL"

    FINISHED = frozenset({SUCCESS, RESTORED, FAILED, CANCELED, STATIC})


class GraphRunningStatus:
    CREATED = "CREATED"
    READY = "READY"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED_WAITING = "FAILED_WAITING"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    ALL = frozenset({CREATED, READY, RUNNING, SUCCESS, FAILED_WAITING, FAILED, CANCELED})
    ACTIVE = frozenset({READY, RUNNING, FAILED_WAITING})


class NodeStatus:
    CREATED = "CREATED"
    READY = "READY"
    DEPRECATED = "DEPRECATED"
    MANDATORY_DEPRECATED = "MANDATORY_DEPRECATED"

    ALL = frozenset({CREATED, READY, DEPRECATED, MANDATORY_DEPRECATED})


class PostStatus:
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    VALIDATION_FAILED = "VALIDATION_FAILED"


class ValidationTargetType:
    BLOCK = "BLOCK"
    GRAPH = "GRAPH"
    INPUT = "INPUT"
    NODE = "NODE"
    PARAMETER = "PARAMETER"
    PROPERTY = "PROPERTY"


class ValidationCode:
    IN_DEPENDENTS = "IN_DEPENDENTS"
    MISSING_INPUT = "MISSING_INPUT"
    MISSING_PARAMETER = "MISSING_PARAMETER"
    INVALID_VALUE = "INVALID_VALUE"
    DEPRECATED_NODE = "DEPRECATED_NODE"
    EMPTY_GRAPH = "EMPTY_GRAPH"


class ParameterTypes:
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    TEXT = "text"
    ENUM = "enum"
    LIST_STR = "list_str"
    LIST_INT = "list_int"
    LIST_NODE = "list_node"
    CODE = "code"
    COLOR = "color"

    ALL = frozenset({STR, INT, FLOAT, BOOL, TEXT, ENUM, LIST_STR, LIST_INT, LIST_NODE, CODE, COLOR})


class BaseNodeNames:
    FILE = "file"
    PYTHON = "python"
    BASH_JINJA2 = "bash_jinja2"

    OPERATIONS = frozenset({PYTHON, BASH_JINJA2})
    ALL = frozenset({FILE, PYTHON, BASH_JINJA2})


FILE_KIND = "file"
