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
    GRAPH = "graph"  # the seed's Composite Operation: a sub-graph run as one operation
    INPUT = "_input"  # inside a composite: hands the composite's inputs to its operations
    OUTPUT = "_output"  # inside a composite: collects the composite's outputs

    OPERATIONS = frozenset({PYTHON, BASH_JINJA2})  # operations with code (and a cache key)
    RUNNABLE = frozenset({PYTHON, BASH_JINJA2, GRAPH})
    SPECIAL = frozenset({INPUT, OUTPUT})
    ALL = frozenset({FILE, PYTHON, BASH_JINJA2, GRAPH})


class SpecialNodeId:
    """Fixed ids of a composite's special nodes, so its operations can link to its inputs."""

    INPUT = "2419f9f6d8b5da6e4bb8f8d4"
    OUTPUT = "56a2bd3af3fe5ee6d63ac7dd"


FILE_KIND = "file"


class IAMPolicies:
    CAN_VIEW_OTHERS_OPERATIONS = "CAN_VIEW_OTHERS_OPERATIONS"
    CAN_VIEW_OTHERS_WORKFLOWS = "CAN_VIEW_OTHERS_WORKFLOWS"
    CAN_VIEW_OPERATIONS = "CAN_VIEW_OPERATIONS"
    CAN_VIEW_WORKFLOWS = "CAN_VIEW_WORKFLOWS"
    CAN_CREATE_OPERATIONS = "CAN_CREATE_OPERATIONS"
    CAN_CREATE_WORKFLOWS = "CAN_CREATE_WORKFLOWS"
    CAN_MODIFY_OTHERS_WORKFLOWS = "CAN_MODIFY_OTHERS_WORKFLOWS"
    CAN_RUN_WORKFLOWS = "CAN_RUN_WORKFLOWS"
    IS_ADMIN = "IS_ADMIN"

    ALL = frozenset({CAN_VIEW_OTHERS_OPERATIONS, CAN_VIEW_OTHERS_WORKFLOWS, CAN_VIEW_OPERATIONS,
                     CAN_VIEW_WORKFLOWS, CAN_CREATE_OPERATIONS, CAN_CREATE_WORKFLOWS,
                     CAN_MODIFY_OTHERS_WORKFLOWS, CAN_RUN_WORKFLOWS, IS_ADMIN})
    # A registered user's policies, as the seed's `plynx.db.user.DEFAULT_POLICIES`.
    DEFAULT = (CAN_VIEW_OTHERS_OPERATIONS, CAN_VIEW_OTHERS_WORKFLOWS, CAN_VIEW_OPERATIONS, CAN_VIEW_WORKFLOWS,
               CAN_CREATE_OPERATIONS, CAN_CREATE_WORKFLOWS, CAN_RUN_WORKFLOWS)


class RegisterUserExceptionCode:
    EMPTY_USERNAME = "EMPTY_USERNAME"
    EMPTY_PASSWORD = "EMPTY_PASSWORD"
    USERNAME_ALREADY_EXISTS = "USERNAME_ALREADY_EXISTS"
    EMAIL_ALREADY_EXISTS = "EMAIL_ALREADY_EXISTS"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_LENGTH_OF_USERNAME = "INVALID_LENGTH_OF_USERNAME"
    # Not in the seed: passwords shorter than 8 characters are refused (chalicelib/domain/passwords.py).
    INVALID_LENGTH_OF_PASSWORD = "INVALID_LENGTH_OF_PASSWORD"
