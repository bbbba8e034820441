"""Cheaper equivalents of moto's hot paths (moto 5.2.5), applied with the other patches (infra/local/patches.py).

Every operation of a graph costs the local stack's one interpreter lock a few DynamoDB requests and a
few Step Functions states; these are where moto spent that time, with the same answers:

1. DynamoDB data-plane responses (GetItem, UpdateItem, Query...) go through moto's generic, shape-driven
   response serializer, which walks every attribute value of every item against botocore's shapes. The
   result is already the wire format (``dynamo_to_dict`` made DynamoType values ``{"S": ...}`` dicts, with
   binary values as bytes): plain JSON with bytes in base64 and no nulls is the same response.
2. The Step Functions interpreter parses a JSONPath (``$.run_id``, a ResultPath) every time a state
   evaluates one, and jsonpath_ng builds a new yacc parser per parse: parsed paths are cached.
3. CreateStateMachine parses the definition to validate it and StartExecution parses it again: the
   program parsed at validation is kept for the next execution of that definition, and a definition of a
   shape seen before (the same graph, or the same states with other ids) is not parsed at all. Definitions over
   ``big_definition_bytes`` (about 8 s of CPU each for a 900 KB child definition) are not parsed at
   creation at all, only when an execution starts (AWS validates for real; the compiler's output is
   checked by asl-validator in the tests).
4. TransactWriteItems backs up every table it touches whole (a deepcopy of all its items: 1 s and more once
   the run records table holds a few hundred runs, on every APPROVE) to roll back a canceled transaction. The
   items it touches are backed up instead, and put back the same way: the same state after a rollback.
5. A table Query (no index) walks every item of the table to find its partition's, once per page: a
   10,000-node graph read in 50 pages of 1 MB walked the whole graph-nodes table 50 times (53 s for one
   GET of it). The partition's own items are the same candidates.
6. Every request lists moto's service folders (``list_of_moto_modules``: a listdir and a stat per service,
   about 50 times to route one request) and the response class's methods (``method_names_from_class``:
   inspect.getmembers); both are fixed once moto is imported: listed once. And it draws each character of a
   request's 52-character id with its own call of its (seedable) random generator: drawn at once instead.
   Together ~20% of a GetItem's CPU.
7. ``DynamoType.to_regular_json`` deep-copies its whole value at every level of nesting before it converts
   the level below (which copies it again): for a node item's nested body, the largest cost of an UpdateItem
   (a condition, the item's size, the answer each convert the item). Each level is copied once instead.
8. An UpdateItem parses its UpdateExpression twice (moto's response and its backend), each time with a new
   tokenizer and parser; the AST is only read (find_clauses) or deep-copied before it is changed (the
   validator): parsed once per expression text (the product sends a handful of texts over and over).
9. Then moto validates the UpdateExpression: ten walks of its AST, each asking at every node for a new dict of
   the walk's handlers (twice) and checking the node's classes against abstract base classes (the slowest
   isinstance there is); the first three walks (one SET/REMOVE/ADD clause each, no overlapping paths, no key
   attribute changed) read nothing but the expression, its names and the table's keys, and one of them looks
   for clauses again at every clause (quadratic in the expression). A third of the stack's CPU per operation
   went there. Each walk now takes its handlers once and a node's class is matched once per class; the three
   checks run once per (parsed expression, names, keys) that passed them; and the validator's own copy of the
   AST is unpickled from the expression's pickle (made once), not deep-copied.
10. A ConditionExpression (and a FilterExpression) is lexed and parsed on every use, in an UpdateItem twice
   and in a transaction once per item: parsed once per (expression, names, values). The parse is a tree of
   operators that only read the item they are given and the values they were made with.
11. A new item (PutItem, a transaction's Put) sets its attributes one at a time, and moto's 400 KB check sums
   the sizes of every attribute already set before each one: quadratic in the attributes, each nested value's
   size walked again every time. The same check with a running total.
12. Each attribute an UpdateItem sets checks the item's 400 KB again (LimitedSizeDict), summing the size of
   every attribute, and ``DynamoType.size`` re-wraps every nested value in a new DynamoType (a copy of the
   level below) at every level before it measures it: for a node item's nested body, most of an UpdateItem's
   CPU. The same sizes, the same checks, measured in place.
13. A DynamoDB request's JSON is parsed against the operation's input shape (blobs decoded, unknown and null
   members dropped) by a walk that asks each structure for every member it could have: an attribute value
   for all ten of its types, at every level of a node item. The same walk, compiled once per operation, visits
   the members present.
14. An UpdateItem deep-copies the item it changes (moto keeps the old one for streams) and a transaction backs
   up the items it touches (4): through ``copy.deepcopy``'s dispatch and memo at every level of a nested
   value. The same copy, each level by a direct call.
15. The Step Functions interpreter deep-copies the values it passes between states at every step (a state's
   input, each JSONPath it extracts, a task's result, a branch's input and stack, the context object, the
   history's events): through ``copy.deepcopy``'s dispatch, memo and keep-alive list at every dict, list and
   string, ~40% of the interpreter's CPU per operation. The same copy (aliases and cycles kept, as the memo
   keeps them), dicts, lists and scalars by direct calls; anything else by ``copy.deepcopy`` itself.
16. Every program the interpreter evaluates (an execution's, each Parallel branch's) runs in a thread of its own
   that the calling thread only joins, with no limit unless the program has a TimeoutSeconds: one more thread
   start and join per branch, each a hand-over of the interpreter lock on a busy stack. A program without a
   TimeoutSeconds is evaluated in the calling thread (which has nothing else to do): the same steps, the same
   errors recorded in its environment (its body catches every Exception). And each branch's thread was named
   after the ``str`` of its whole program (every component's attributes, formatted recursively, ~90 ``__str__``
   calls a branch, for a name nothing reads): named by its class, as the interpreter's other threads are.
"""
from __future__ import annotations

import base64
import collections
import copy
import datetime
import functools
import json
import pickle
import re
import string
import threading
from typing import Any

# DynamoDB operations whose results are items, keys and capacities: nothing but JSON, bytes and numbers.
DATA_PLANE = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                        "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


def apply(set_attribute: Any, big_definition_bytes: int) -> None:
    """Install the fast paths with `set_attribute(owner, name, value)` (which records what to undo)."""
    _patch_dynamodb_responses(set_attribute)
    _patch_json_path_cache(set_attribute)
    _patch_parse_once(set_attribute, big_definition_bytes)
    _patch_transaction_backups(set_attribute)
    _patch_partition_query(set_attribute)
    _patch_static_listings(set_attribute)
    _patch_regular_json(set_attribute)
    _patch_update_expression_cache(set_attribute)
    _patch_update_validation(set_attribute)
    _patch_condition_cache(set_attribute)
    _patch_item_sizes(set_attribute)
    _patch_value_sizes(set_attribute)
    _patch_json_request_parse(set_attribute)
    _patch_value_copies(set_attribute)
    _patch_interpreter_copies(set_attribute)
    _patch_program_threads(set_attribute)


# -- 1. DynamoDB responses -------------------------------------------------------------------------------


def to_wire(value: Any) -> Any:
    """A DynamoDB result as its JSON body: bytes as base64, datetimes as epoch seconds, None members left out."""
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


def fast_execute_result(original: Any) -> Any:
    """DynamoResult.execute_result, with data-plane results written as plain JSON."""

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        if operation.name not in DATA_PLANE or not isinstance(self.result, dict):
            return original(self, context)
        version = operation.service_model.metadata.get("jsonVersion", "1.0")
        body = json.dumps(to_wire(self.result))
        return 200, {"Content-Type": f"application/x-amz-json-{version}"}, body

    return execute_result


def _patch_dynamodb_responses(set_attribute: Any) -> None:
    from moto.dynamodb.responses import DynamoResult

    set_attribute(DynamoResult, "execute_result", fast_execute_result(DynamoResult.execute_result))


# -- 2. parsed JSONPaths ---------------------------------------------------------------------------------


def _patch_json_path_cache(set_attribute: Any) -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        # jsonpath_ng expressions are immutable: find/update_or_create change the data, not the path.
        set_attribute(module, "parse", functools.lru_cache(maxsize=4096)(module.parse))


# -- 3. one parse per execution, none for a graph shape seen before ----------------------------------------

_PARSED: collections.OrderedDict[str, Any] = collections.OrderedDict()  # validated, not yet started
_PARSED_LOCK = threading.Lock()
_PARSED_KEEP = 16
# The shape of a definition: its ids (24 hex digits: graph and node ids) renamed in the order the states
# are reached from StartAt, keys sorted. Equal shapes are the same state machine up to that renaming, so
# the program parsed from the shape (moto's ANTLR parser: 50-300 ms), pickled with its made-up ids, gives
# any definition of that shape its program by putting the real ids back (about 1 ms).
_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{24}(?![0-9a-f])")
_SHAPES: collections.OrderedDict[str, bytes] = collections.OrderedDict()
_SHAPES_KEEP = 64


def _label(index: int) -> str:
    return "ca11ab1e%016d" % index  # 24 hex digits, like the ids it stands for


def shape_of(definition: str) -> tuple[str, dict[str, str]]:
    """The definition's shape and the renaming (label -> id) that turns the shape back into it."""
    document = json.loads(definition)
    labels: dict[str, str] = {}

    def rename(text: str) -> str:
        return _ID.sub(lambda match: labels.setdefault(match.group(), _label(len(labels))), text)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if isinstance(value.get("States"), dict) and isinstance(value.get("StartAt"), str):
                return walk_machine(value)
            return {rename(key): walk(value[key]) for key in sorted(value)}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return rename(value) if isinstance(value, str) else value

    def walk_machine(machine: dict) -> dict:
        states, order, queue = machine["States"], [], [machine["StartAt"]]
        while queue:  # the states as control reaches them: an order the ids do not decide
            name = queue.pop(0)
            if name in states and name not in order:
                order.append(name)
                queue.extend(_targets(states[name]))
        order += sorted(name for name in states if name not in order)  # unreachable: refused by the parse
        renamed = {key: walk(machine[key]) for key in sorted(machine) if key != "States"}
        renamed["States"] = {rename(name): walk(states[name]) for name in order}
        return renamed

    shape = json.dumps(walk(document), sort_keys=True, separators=(",", ":"))
    return shape, {label: ident for ident, label in labels.items()}


def _targets(state: Any) -> list[str]:
    """The states a state may pass control to, in the order it names them."""
    if not isinstance(state, dict):
        return []
    found = [state[key] for key in ("Next", "Default") if isinstance(state.get(key), str)]
    for key in ("Choices", "Catch"):
        found += [item["Next"] for item in state.get(key) or [] if isinstance(item, dict) and "Next" in item]
    return found


def parse_program(definition: str, big_definition_bytes: int = 64 * 1024) -> Any:
    """moto's program for a definition: from the pickled program of its shape (parsed once, then kept)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    if len(definition) > big_definition_bytes:  # rare, and too big to keep
        return AmazonStateLanguageParser.parse(definition)[0]
    try:
        shape, ids = shape_of(definition)
    except (ValueError, TypeError, KeyError):  # not JSON, or not a state machine: moto says why
        return AmazonStateLanguageParser.parse(definition)[0]
    with _PARSED_LOCK:
        pickled = _SHAPES.get(shape)
    if pickled is None:
        program = AmazonStateLanguageParser.parse(shape)[0]
        try:
            pickled = pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a program that does not pickle is parsed each time
            return AmazonStateLanguageParser.parse(definition)[0]
        with _PARSED_LOCK:
            _SHAPES[shape] = pickled
            while len(_SHAPES) > _SHAPES_KEEP:
                _SHAPES.popitem(last=False)
    for label, ident in ids.items():
        pickled = pickled.replace(label.encode(), ident.encode())
    return pickle.loads(pickled)


def _patch_parse_once(set_attribute: Any, big_definition_bytes: int) -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    validate = StepFunctionsParserBackend._validate_definition

    def _validate_definition(definition: str) -> None:
        if len(definition) > big_definition_bytes:
            return None  # parsed (and refused if invalid) when an execution starts
        try:
            program = parse_program(definition, big_definition_bytes)
        except Exception:  # noqa: BLE001 - moto's own validation reports it
            return validate(definition)
        with _PARSED_LOCK:
            _PARSED[definition] = program
            _PARSED.move_to_end(definition)
            while len(_PARSED) > _PARSED_KEEP:
                _PARSED.popitem(last=False)
        return None

    def _get_evaluation_entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with _PARSED_LOCK:
            program = _PARSED.pop(definition, None)  # a parsed program runs once
        return program if program is not None else parse_program(definition, big_definition_bytes)

    set_attribute(StepFunctionsParserBackend, "_validate_definition", staticmethod(_validate_definition))
    set_attribute(ExecutionWorker, "_get_evaluation_entrypoint", _get_evaluation_entrypoint)


# -- 4. transactions back up the items they touch, not their tables -------------------------------------

_IN_TRANSACTION = threading.local()


class _TablesNotCopied:
    """moto.dynamodb.models' `copy` module, but a table's deepcopy in a transaction (this thread's) is the
    table itself: the transaction has backed up the items it may change instead."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_IN_TRANSACTION, "active", False) and isinstance(value, Table):
            return value
        return self._real.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _touched_items(backend: Any, transact_items: list) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, a copy of the item as it is or None) for each item a transaction names."""
    backups = []
    for entry in transact_items:
        try:
            operation, body = next(iter(entry.items()))
            table = backend.get_table(body["TableName"])
            hash_key, range_key = backend.get_keys_value(table, body["Item"] if operation == "Put" else body["Key"])
            backups.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        except Exception:  # noqa: BLE001 - malformed, or no such table: moto refuses it, changing nothing
            continue
    return backups


def _put_back(backups: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, item in reversed(backups):
        if range_key is not None:
            if item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item


def _patch_transaction_backups(set_attribute: Any) -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list) -> None:
        if len(transact_items) > 100:  # moto refuses it before it copies anything
            return original(self, transact_items)
        backups = _touched_items(self, transact_items)
        _IN_TRANSACTION.active = True
        try:
            return original(self, transact_items)
        except Exception:
            _put_back(backups)  # as moto's own rollback would have left them
            raise
        finally:
            _IN_TRANSACTION.active = False

    set_attribute(models, "copy", _TablesNotCopied(copy))
    set_attribute(DynamoDBBackend, "transact_write_items", transact_write_items)
# -- 5. a Query reads its partition, not the table ------------------------------------------------------


class _Partition:
    """A table as moto's Query sees it, holding only the items of one hash key (the rest is the table's)."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table, self._hash_key = table, hash_key

    def all_items(self) -> list[Any]:
        items = self._table.items.get(self._hash_key)
        return list(items.values()) if items else []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def partition_query(original: Any) -> Any:
    """Table.query, over the partition's items only when no index is named (an index query may match any item)."""

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name") if len(args) < 7 else args[6]
        if index_name or not self.range_key_attr or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        return original(_Partition(self, hash_key), hash_key, *args, **kwargs)

    return query


def _patch_partition_query(set_attribute: Any) -> None:
    from moto.dynamodb.models.table import Table

    set_attribute(Table, "query", partition_query(Table.query))


# -- 6. what moto lists on every request, listed once ----------------------------------------------------


def _patch_static_listings(set_attribute: Any) -> None:
    import moto.backends
    import moto.core.responses

    modules = tuple(moto.backends.list_of_moto_modules())  # moto's folders do not change while it runs
    set_attribute(moto.backends, "list_of_moto_modules", lambda: iter(modules))
    # a class's method names (our patches replace methods, never add or remove them after the first request)
    names = functools.lru_cache(maxsize=None)(lambda clazz: frozenset(original(clazz)))
    original = moto.core.responses.method_names_from_class
    set_attribute(moto.core.responses, "method_names_from_class", names)

    from moto.moto_api._internal.moto_random import MotoRandom

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))  # the same characters, equally likely, one call
        return drawn.lower() if lower_case else drawn

    set_attribute(MotoRandom, "get_random_string", get_random_string)


# -- 7. an item's plain JSON, each level copied once ------------------------------------------------------


def _patch_regular_json(set_attribute: Any) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    def to_regular_json(self: Any) -> dict[str, Any]:
        """What moto's gives: a new structure, nested DynamoTypes as their plain JSON, the rest deep-copied."""
        value = self.value
        if isinstance(value, dict):
            value = {key: nested.to_regular_json() if isinstance(nested, DynamoType) else copy.deepcopy(nested)
                     for key, nested in value.items()}
        elif isinstance(value, list):
            value = [nested.to_regular_json() if isinstance(nested, DynamoType) else copy.deepcopy(nested)
                     for nested in value]
        else:
            value = copy.deepcopy(value)
        if self.is_binary() and isinstance(value, str):
            value = base64.b64decode(value)
        return {self.type: value}

    set_attribute(DynamoType, "to_regular_json", to_regular_json)


# -- 8. an UpdateExpression parsed once per text ------------------------------------------------------------


def _patch_update_expression_cache(set_attribute: Any) -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
    parsed = functools.lru_cache(maxsize=1024)(lambda expression: make(UpdateExpressionParser, expression))
    set_attribute(UpdateExpressionParser, "make", classmethod(lambda cls, expression: parsed(expression)))


# -- 9. an UpdateExpression's validation: its handlers found once per walk, its checks once per expression ----


def _patch_update_validation(set_attribute: Any) -> None:
    from moto.dynamodb.parsing import ast_nodes, validators

    node_class = ast_nodes.Node
    is_node: dict[type, bool] = {}  # no class is registered with moto's ABCs while it runs
    no_pre = ast_nodes.DepthFirstTraverser.pre_processing_of_child

    def traverse(self: Any, node: Any) -> Any:
        """DepthFirstTraverser.traverse: the same walk (children first, each node replaced by what its handler
        returns), with the handler of each node class looked up once."""
        processing = self._processing_map()
        handlers: dict[type, Any] = {}
        pre = None if type(self).pre_processing_of_child is no_pre else self.pre_processing_of_child

        def walk(node: Any, child_id: int) -> Any:
            kind = type(node)
            process = handlers.get(kind, handlers)
            if process is handlers:  # a class not met yet in this walk
                known = is_node.get(kind)
                if known is None:
                    known = is_node[kind] = issubclass(kind, node_class)
                process = next((handle for owner, handle in processing.items() if issubclass(kind, owner)),
                               None) if known else False
                handlers[kind] = process
            if process is False:
                return node  # not a Node: left as it is
            parent = node.parent
            children = node.children
            if children is not None:
                for i, child in enumerate(children):
                    if pre is not None:
                        pre(node, i)
                    walk(child, i)
            if process is not None:
                node = process(node)
                node.parent = parent
                if parent:
                    parent.children[child_id] = node
            return node

        return walk(node, -1)

    set_attribute(ast_nodes.DepthFirstTraverser, "traverse", traverse)

    # Walks that only check the expression (their handlers return the node they were given, unchanged).
    expression_only = (validators.ActionCountValidator, validators.OverlappingPathsValidator,
                       validators.UpdateHashRangeKeyValidator)
    passed: set[tuple[Any, ...]] = set()  # (parsed expression, names, key attributes), the AST kept alive
    pickled: dict[Any, bytes] = {}  # parsed expression -> its pickle, the AST kept alive

    def __init__(self: Any, expression: Any, expression_attribute_names: Any, expression_attribute_values: Any,
                 item: Any, table: Any) -> None:
        """Validator.__init__, the AST copied from its pickle (made once) instead of deep-copied: a third of the time."""
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        frozen = pickled.get(expression)
        if frozen is None:
            if len(pickled) > 1024:
                pickled.clear()
            frozen = pickled[expression] = pickle.dumps(expression, pickle.HIGHEST_PROTOCOL)
        self.node_to_validate = pickle.loads(frozen)
        self.checked_as = (expression, tuple(sorted((expression_attribute_names or {}).items())),
                           tuple(table.table_key_attrs))

    def validate(self: Any) -> Any:
        known = self.checked_as in passed
        node = self.node_to_validate
        for processor in self.processors:
            if known and isinstance(processor, expression_only):
                continue
            node = processor.traverse(node)
        if not known:
            if len(passed) > 4096:
                passed.clear()
            passed.add(self.checked_as)
        return node

    set_attribute(validators.UpdateExpressionValidator, "__init__", __init__)
    set_attribute(validators.UpdateExpressionValidator, "validate", validate)


# -- 10. a condition parsed once per (expression, names, values) ------------------------------------------------


def _patch_condition_cache(set_attribute: Any) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    parse = ConditionExpressionParser.parse
    parsed: dict[tuple[str, str, str], tuple[Any, tuple[str, ...], tuple[str, ...]]] = {}

    def cached_parse(self: Any) -> Any:
        if not self.condition_expression:
            return parse(self)
        try:
            key = (self.condition_expression, json.dumps(self.expression_attribute_names, sort_keys=True),
                   json.dumps(self.expression_attribute_values, sort_keys=True))
        except (TypeError, ValueError):
            return parse(self)
        found = parsed.get(key)
        if found is None:
            op = parse(self)  # an invalid expression raises, and is not kept
            if len(parsed) > 4096:
                parsed.clear()
            parsed[key] = (op, tuple(self.expr_attr_names_found), tuple(self.expr_attr_values_found))
            return op
        op, names, values = found
        self.expr_attr_names_found.extend(names)  # what moto's responses check for unused names and values
        self.expr_attr_values_found.extend(values)
        return op

    set_attribute(ConditionExpressionParser, "parse", cached_parse)


# -- 11. a new item's size summed once --------------------------------------------------------------------


def _patch_item_sizes(set_attribute: Any) -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        """Item.__init__: each attribute checked as LimitedSizeDict.__setitem__ does (the attributes set so far,
        plus this one, at most 405000 bytes), the sum so far kept instead of summed again."""
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = LimitedSizeDict()
        total = 0
        for key, value in attrs.items():  # a dict's keys: each set once
            typed = DynamoType(value)
            size = bytesize(key) + typed.size()
            if total + size > 405000:
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, typed)
            total += size

    set_attribute(Item, "__init__", __init__)


# -- 12. an attribute value's size measured in place ----------------------------------------------------------


def _patch_value_sizes(set_attribute: Any) -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    set_of = {"SS": "S", "NS": "N", "BS": "B"}

    def scalar(kind: str, value: Any) -> int:
        if kind == "N":
            return len(str(value))
        if isinstance(value, bool):  # BOOL, and NULL (True)
            return 1
        return bytesize(value)

    def measure(typed: Any) -> int:
        """DynamoType.size: a number its digits, a set, list or map the sum of its members (a map's keys too)."""
        if type(typed) is not DynamoType:
            typed = DynamoType(typed)
        kind, value = typed.type, typed.value
        if kind == "M":
            return sum(bytesize(key) + measure(nested) for key, nested in value.items())
        if kind == "L":
            return sum(measure(nested) for nested in value)
        member = set_of.get(kind)
        if member is not None:
            return sum(scalar(member, nested) for nested in value)
        return scalar(kind, value)

    def size(self: Any) -> int:
        return measure(self)

    def __setitem__(self: Any, key: str, value: Any) -> None:
        """LimitedSizeDict.__setitem__: the attributes set so far and this one within 405000 bytes."""
        current = sum((measure(item) if type(item) is DynamoType else bytesize(str(item)))
                      for items in (self.keys(), self.values()) for item in items)
        new = bytesize(key) + (measure(value) if type(value) is DynamoType else bytesize(str(value)))
        if current + new > 405000:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    set_attribute(DynamoType, "size", size)
    set_attribute(LimitedSizeDict, "__setitem__", __setitem__)


# -- 13. a DynamoDB request's JSON parsed by a walk compiled per operation ---------------------------------------


def compile_shape(shape: Any, parser: Any, compiled: dict[str, Any] | None = None) -> Any:
    """A function giving what `parser._parse_shape(shape, value)` gives for a JSON value (moto's JSONParser): a
    structure's members that are present and not null, parsed; lists and maps member by member; the scalar
    types by the parser's own handlers (a blob base64-decoded, a timestamp, float and integer converted)."""
    compiled = {} if compiled is None else compiled
    name = shape.name
    if name in compiled:  # a recursive shape (an attribute value's M and L): bound when it is called
        return compiled[name] or (lambda value: compiled[name](value))
    kind = shape.type_name
    if kind == "structure" and not shape.is_document_type:
        compiled[name] = None
        members = {member.serialization.get("name", member_name): (member_name, compile_shape(member, parser, compiled))
                   for member_name, member in shape.members.items()}
        map_type = parser.MAP_TYPE

        def structure(value: Any) -> Any:
            if value is None:
                return None
            parsed = map_type()
            for json_name, raw in value.items():
                if raw is not None and json_name in members:
                    member_name, parse = members[json_name]
                    parsed[member_name] = parse(raw)
            return parsed

        function: Any = structure
    elif kind == "list":
        member = compile_shape(shape.member, parser, compiled)
        function = lambda value: [member(item) for item in value]  # noqa: E731
    elif kind == "map":
        key, nested, map_type = compile_shape(shape.key, parser, compiled), compile_shape(shape.value, parser, compiled), \
            parser.MAP_TYPE
        function = lambda value: map_type((key(k), nested(v)) for k, v in value.items())  # noqa: E731
    else:
        handle = getattr(parser, f"_parse_{kind}", parser._default_handle)
        function = lambda value: handle(shape, value)  # noqa: E731
    compiled[name] = function
    return function


def _patch_json_request_parse(set_attribute: Any) -> None:
    from moto.core.parse import JSONParser
    from moto.core.request import determine_request_protocol
    from moto.core.responses import BaseResponse
    from moto.core.utils import get_service_model
    from moto.dynamodb.responses import DynamoHandler

    original = BaseResponse.parse_parameters
    by_action: dict[str, tuple[Any, Any]] = {}

    def parse_parameters(self: Any, request: Any) -> None:
        service_model = get_service_model(self.boto3_service_name)
        if determine_request_protocol(service_model, request.content_type) != "json":
            return original(self, request)
        action = self._get_action()
        found = by_action.get(action)
        if found is None:
            operation = service_model.operation_model(action)
            parser = JSONParser(operation, map_type=self.PROTOCOL_PARSER_MAP_TYPE)
            shape = operation.input_shape
            found = by_action[action] = (parser, compile_shape(shape, parser) if shape is not None else None)
        parser, parse = found
        self.params = parse(parser._parse_body_as_json(request.data)) if parse is not None else {}

    set_attribute(DynamoHandler, "parse_parameters", parse_parameters)


# -- 14. an attribute value copied without deepcopy's dispatch at every level -----------------------------------


def _patch_value_copies(set_attribute: Any) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    sets = frozenset({"SS", "NS", "BS"})

    def clone(value: Any) -> Any:
        kind, inner = value.type, value.value
        result = object.__new__(type(value))
        result.type = kind
        if kind == "M":
            result.value = {key: clone(item) if type(item) is DynamoType else copy.deepcopy(item)
                            for key, item in inner.items()}
        elif kind == "L":
            result.value = [clone(item) if type(item) is DynamoType else copy.deepcopy(item) for item in inner]
        elif kind in sets:
            result.value = list(inner)
        else:
            result.value = inner
        return result

    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:
        """DynamoType.__deepcopy__: the same copy (a map's and a list's members copied, a set's list copied, a
        scalar shared), each level by a direct call."""
        found = memo.get(id(self))
        if found is None:
            found = memo[id(self)] = clone(self)
        return found

    set_attribute(DynamoType, "__deepcopy__", __deepcopy__)


# -- 15. the interpreter's copies of JSON values by direct calls --------------------------------------------------

_ATOMIC = frozenset({str, int, float, bool, type(None), bytes})
# the interpreter's modules that copy values between states (moto/stepfunctions/parser/asl)
INTERPRETER_COPIERS = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.event.event_manager",
    "moto.stepfunctions.parser.asl.eval.environment",
)


def json_deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """copy.deepcopy: a dict's and a list's members copied (each container once, by the same memo), a scalar
    shared; any other value (a tuple, a subclass, an object) by copy.deepcopy with that memo."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if memo is None:
        memo = {}
    if kind is dict:
        found = memo.get(id(value))
        if found is not None:
            return found
        copied: Any = {}
        memo[id(value)] = copied
        for key, item in value.items():
            copied[key if type(key) in _ATOMIC else json_deepcopy(key, memo)] = \
                item if type(item) in _ATOMIC else json_deepcopy(item, memo)
        return copied
    if kind is list:
        found = memo.get(id(value))
        if found is not None:
            return found
        copied = []
        memo[id(value)] = copied
        append = copied.append
        for item in value:
            append(item if type(item) in _ATOMIC else json_deepcopy(item, memo))
        return copied
    return copy.deepcopy(value, memo)


def _patch_interpreter_copies(set_attribute: Any) -> None:
    import importlib
    import types

    shim = types.SimpleNamespace(**{name: getattr(copy, name) for name in dir(copy) if not name.startswith("__")})
    shim.deepcopy = json_deepcopy
    for name in INTERPRETER_COPIERS:
        module = importlib.import_module(name)
        if getattr(module, "copy", None) is copy:
            set_attribute(module, "copy", shim)


# -- 16. a program without a time limit evaluated in the thread that waits for it -----------------------------


def _patch_program_threads(set_attribute: Any) -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import BranchWorker

    threaded = Program.eval

    def eval_program(self: Any, env: Any) -> None:
        """Program.eval: with no TimeoutSeconds its thread was joined without a limit, so nothing can time out."""
        if self.timeout_seconds:
            threaded(self, env)
            return
        env.next_state_name = self.start_at.start_at_name
        EvalComponent.eval(self, env)

    def start(self: Any) -> None:
        """BranchWorker.start, its thread named without formatting its whole program."""
        if self._worker_thread is not None:
            raise RuntimeError("Attempted to rerun BranchWorker for its program.")
        self._worker_thread = threading.Thread(target=self._thread_routine, name="BranchWorker", daemon=True)
        self._worker_thread.start()

    set_attribute(Program, "eval", eval_program)
    set_attribute(BranchWorker, "start", start)
