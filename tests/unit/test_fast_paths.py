"""The local stack's fast paths through moto answer exactly what moto's own paths answer."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local import fast_paths

TABLE = "fast-paths"
ITEMS = [
    {"pk": "a", "sk": 1, "text": "héllo \u2603 \"quoted\" \\ back", "number": Decimal("12345678901234567890.125"),
     "negative": Decimal("-0.5"), "blob": Binary(b"\x00\xffbinary\n"), "yes": True, "no": False, "nothing": None,
     "strings": {"x", "y"}, "numbers": {Decimal("1"), Decimal("2.5")}, "blobs": {Binary(b"\x01"), Binary(b"\x02")},
     "map": {"nested": {"list": [1, "two", Binary(b"3"), None, {"deep": [True, {"set": {"s"}}]}]}, "empty": {}},
     "list": [], "empty_string": ""},
    {"pk": "a", "sk": 2, "outputs": {"out": "f" * 64}, "logs": {"stdout": "0" * 64}},
    {"pk": "b", "sk": 1, "blob": Binary(b"")},
]


def _strip(response: Any) -> Any:
    if isinstance(response, dict):
        return {k: _strip(v) for k, v in response.items() if k != "ResponseMetadata"}
    return response


def _calls(client: Any) -> list[Any]:
    """One of each data-plane operation (and a conditional failure that returns the item), parsed by boto3."""
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    answers: list[Any] = [
        client.get_item(TableName=TABLE, Key=key, ConsistentRead=True),
        client.get_item(TableName=TABLE, Key={"pk": {"S": "zz"}, "sk": {"N": "9"}}),
        client.get_item(TableName=TABLE, Key=key, ReturnConsumedCapacity="TOTAL"),
        client.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}),
        client.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                     Limit=1, ReturnConsumedCapacity="INDEXES"),
        client.scan(TableName=TABLE),
        client.batch_get_item(RequestItems={TABLE: {"Keys": [key, {"pk": {"S": "b"}, "sk": {"N": "1"}},
                                                             {"pk": {"S": "c"}, "sk": {"N": "1"}}]}}),
        client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}]),
        client.update_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "2"}}, ReturnValues="ALL_NEW",
                           UpdateExpression="SET #s = :s ADD #d :d",
                           ExpressionAttributeNames={"#s": "status", "#d": "done"},
                           ExpressionAttributeValues={":s": {"S": "RUNNING"}, ":d": {"SS": ["n1"]}}),
        client.update_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "2"}}, ReturnValues="UPDATED_OLD",
                           UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":s": {"S": "SUCCESS"}}),
        client.update_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "2"}},
                           UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":s": {"S": "DONE"}}),
        client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"N": "1"}, "b": {"B": b"\x00"}},
                        ReturnValues="NONE"),
        client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"N": "1"}, "b": {"B": b"\x01"}},
                        ReturnValues="ALL_OLD"),
        client.delete_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"N": "1"}}, ReturnValues="ALL_OLD"),
        client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {"pk": {"S": "w"}, "sk": {"N": "1"}}}},
                                                      {"DeleteRequest": {"Key": {"pk": {"S": "w"}, "sk": {"N": "2"}}}}]}),
        client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE,
                                                            "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}}]),
    ]
    try:
        client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"N": "1"}},
                        ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as exc:
        answers.append(exc.response)
    try:
        client.get_item(TableName="no-such-table", Key=key)
    except ClientError as exc:
        answers.append(exc.response)
    return answers


def _reset(client: Any) -> None:
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "N"}])
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    for item in ITEMS:
        table.put_item(Item=item)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


_MISSING = object()


def _apply() -> list[tuple[Any, str, Any]]:
    undo: list[tuple[Any, str, Any]] = []

    def set_attribute(owner: Any, name: str, value: Any) -> None:
        undo.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, value)

    fast_paths.apply(set_attribute, 64 * 1024)
    return undo


def _undo(undo: list[tuple[Any, str, Any]]) -> None:
    for owner, name, value in reversed(undo):
        if value is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, value)


def _without_and_with(aws: Any, calls: Any, between: Any = None) -> tuple[list[Any], list[Any]]:
    """The answers of `calls` on moto as it is, then (after `between()`) with the fast paths, each time from the
    same items."""
    _reset(aws)
    original = [_strip(answer) for answer in calls(aws)]
    if between is not None:
        between()
    undo = _apply()
    try:
        _reset(aws)
        fast = [_strip(answer) for answer in calls(aws)]
    finally:
        _undo(undo)
    return original, fast


def test_dynamodb_responses_parse_the_same_as_moto_serializer(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wired: list[Any] = []
    to_wire = fast_paths.to_wire
    monkeypatch.setattr(fast_paths, "to_wire", lambda value: wired.append(value) or to_wire(value))
    original, fast = _without_and_with(aws, _calls)
    assert len(wired) >= 16  # the data-plane answers went the fast way
    assert fast == original
    assert original[0]["Item"]["blob"] == {"B": b"\x00\xffbinary\n"}  # the comparison saw what it should
    assert original[0]["Item"]["number"] == {"N": "12345678901234567890.125"}
    assert original[-2]["Error"]["Code"] == "ConditionalCheckFailedException" and original[-2]["Item"]


def test_pynamodb_reads_the_same_items(aws: Any) -> None:
    from pynamodb.attributes import (
        BinaryAttribute,
        BinarySetAttribute,
        BooleanAttribute,
        MapAttribute,
        NumberAttribute,
        NumberSetAttribute,
        UnicodeAttribute,
        UnicodeSetAttribute,
    )
    from pynamodb.models import Model

    class Thing(Model):
        class Meta:
            table_name = TABLE
            region = "us-east-1"

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        text = UnicodeAttribute(null=True)
        number = NumberAttribute(null=True)
        blob = BinaryAttribute(null=True, legacy_encoding=False)
        yes = BooleanAttribute(null=True)
        strings = UnicodeSetAttribute(null=True)
        numbers = NumberSetAttribute(null=True)
        blobs = BinarySetAttribute(null=True, legacy_encoding=False)
        map = MapAttribute(null=True)

    def read() -> list[Any]:
        things = [Thing.get("a", 1, consistent_read=True), *Thing.query("a"), *Thing.batch_get([("a", 1), ("b", 1)])]
        updated = Thing("a", 2)
        updated.update(actions=[Thing.text.set("x"), Thing.strings.add({"z"})])
        things.append(updated)
        return [json.dumps(thing.serialize(), sort_keys=True, default=repr) for thing in things]

    _reset(aws)
    original = read()
    undo = _apply()
    try:
        _reset(aws)
        fast = read()
    finally:
        _undo(undo)
    assert fast == original
    assert "binary" in original[0]


def test_to_wire_drops_nulls_and_encodes_bytes() -> None:
    assert fast_paths.to_wire({"a": None, "b": [b"\x00", {"c": None, "d": "e"}], "f": False}) == {
        "b": ["AA==", {"d": "e"}], "f": False}


def _definition(nodes: list[dict]) -> str:
    import secrets

    import stepfunctions

    graph = {"_id": secrets.token_hex(12), "title": "shape", "description": "", "nodes": nodes}
    return json.dumps(stepfunctions.compile_program(graph, "plynx-runner").main, sort_keys=True,
                      separators=(",", ":"))


def _graphs() -> list[list[dict]]:
    """A chain, a fan-out with a join (waits), an operation with retries and a timeout: fresh ids each call."""
    from tests.helpers import instance, operation

    def op(**params: Any) -> dict:
        import secrets

        node = operation("python", "op", "pass", inputs=[{"name": "in", "file_types": ["file"], "min_count": 0,
                                                            "max_count": -1}], outputs=["out"], params=params)
        return dict(node, _id=secrets.token_hex(12))

    chain: list[dict] = []
    for _ in range(4):
        chain.append(instance(op(), **({"in": [(chain[-1], "out")]} if chain else {})))
    source = instance(op())
    middle = [instance(op(), **{"in": [(source, "out")]}) for _ in range(3)]
    fan = [source, *middle, instance(op(), **{"in": [(m, "out") for m in middle]})]
    return [chain, fan, [instance(op(_retries=2, _timeout=30))]]


def _structure(value: Any, seen: set[int] | None = None) -> Any:
    """A program as plain data, mappings in key order (the order of a machine's states means nothing)."""
    import enum

    seen = set() if seen is None else seen
    if isinstance(value, (str, int, float, bool, type(None), enum.Enum)):
        return value
    if id(value) in seen:
        return "<cycle>"
    seen = seen | {id(value)}
    if isinstance(value, dict):
        return sorted((repr(_structure(k, seen)), _structure(v, seen)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_structure(item, seen) for item in value]
    if hasattr(value, "__dict__"):
        return [type(value).__name__, _structure(vars(value), seen)]
    return repr(value)


def test_a_known_shape_gives_the_program_a_parse_gives() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    for kind, (first, second) in enumerate(zip(_graphs(), _graphs())):
        seen, new = _definition(first), _definition(second)
        fast_paths.parse_program(seen)  # parsed: its shape is kept
        if kind != 1:  # a chain, one operation: the same shape whatever the ids (a fan's plan depends on them)
            assert seen != new and fast_paths.shape_of(seen)[0] == fast_paths.shape_of(new)[0]
        shapes = len(fast_paths._SHAPES)
        from_shape = fast_paths.parse_program(new)
        assert len(fast_paths._SHAPES) == shapes + (fast_paths.shape_of(new)[0] != fast_paths.shape_of(seen)[0])
        assert _structure(from_shape) == _structure(AmazonStateLanguageParser.parse(new)[0])
        assert _structure(fast_paths.parse_program(seen)) == _structure(AmazonStateLanguageParser.parse(seen)[0])


def test_other_shapes_are_told_apart() -> None:
    chain, fan, single = (_definition(nodes) for nodes in _graphs())
    assert len({fast_paths.shape_of(d)[0] for d in (chain, fan, single)}) == 3
    longer = _graphs()[0]
    longer.append(dict(longer[-1], _id="f" * 24))
    assert fast_paths.shape_of(_definition(longer))[0] != fast_paths.shape_of(chain)[0]


def test_a_canceled_transaction_leaves_every_item_as_it_was_without_copying_tables(aws: Any) -> None:
    from moto.dynamodb.models.table import Table

    _reset(aws)

    def scan() -> list[Any]:
        return sorted((json.dumps(item, sort_keys=True, default=str) for item in
                       aws.scan(TableName=TABLE, ConsistentRead=True)["Items"]))

    def transaction() -> list[dict]:
        return [  # an update, a new item, a delete, then a condition that fails: nothing of it stays
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}, "UpdateExpression": "SET x = :x",
                        "ExpressionAttributeValues": {":x": {"S": "changed"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"N": "1"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}},
        ]

    before = scan()
    copied: list[Any] = []
    deepcopy = Table.__deepcopy__ if hasattr(Table, "__deepcopy__") else None
    undo = _apply()
    try:
        Table.__deepcopy__ = lambda self, memo: copied.append(self) or self  # type: ignore[attr-defined]
        with pytest.raises(ClientError, match="TransactionCanceled"):
            aws.transact_write_items(TransactItems=transaction())
        assert scan() == before and copied == []
        aws.transact_write_items(TransactItems=transaction()[:3])  # without the failing check: all of it
        after = scan()
    finally:
        _undo(undo)
        if deepcopy is None:
            del Table.__deepcopy__
        else:
            Table.__deepcopy__ = deepcopy
    assert after != before and any('"changed"' in item for item in after) and any('"new"' in item for item in after)
    assert not any('"b"' in item for item in after)


def _random_value(rng: Any, depth: int = 0) -> dict:
    """A DynamoDB attribute value of every type, nested a few levels."""
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return {"S": "x" * rng.randint(0, 5)}
    if roll < 0.4:
        return {"N": str(rng.randint(0, 100))}
    if roll < 0.5:
        return {"B": "YWI="}
    if roll < 0.6:
        return {"SS": ["a", "b"]}
    if roll < 0.7:
        return {"BOOL": True} if roll < 0.65 else {"NULL": True}
    if roll < 0.85:
        return {"L": [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    return {"M": {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.randint(0, 3))}}


def test_an_items_plain_json_is_what_moto_makes_of_it() -> None:
    import random

    from moto.dynamodb.models.dynamo_type import DynamoType

    original = DynamoType.to_regular_json
    undo = _apply()
    try:
        assert DynamoType.to_regular_json is not original
        rng = random.Random(7)
        for _ in range(2000):
            value = DynamoType(_random_value(rng))
            fast = value.to_regular_json()
            assert fast == original(value)
            if isinstance(value.value, (dict, list)):
                assert fast[value.type] is not value.value  # a copy, never the item's own
    finally:
        _undo(undo)


def _shape(node: Any) -> Any:
    children = getattr(node, "children", None)
    if isinstance(children, list):
        return type(node).__name__, [_shape(child) for child in children]
    return type(node).__name__, repr(children if children is not None else node)


def test_an_update_expression_is_parsed_once_and_never_changed_by_its_updates(aws: Any) -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    expression = "SET #s = :s ADD #d :d"  # what _calls sends, with values to substitute
    fresh = _shape(UpdateExpressionParser.make(expression))
    undo = _apply()
    try:
        first = UpdateExpressionParser.make(expression)
        _reset(aws)
        _calls(aws)  # validated, normalized and executed against items
        assert UpdateExpressionParser.make(expression) is first
        assert _shape(first) == fresh
    finally:
        _undo(undo)


def _expressions(client: Any) -> list[Any]:
    """Updates and conditions, each sent twice (the second from the caches), refused ones included."""
    key = {"pk": {"S": "a"}, "sk": {"N": "2"}}
    requests: list[dict] = [
        {"UpdateExpression": "SET #s = :s, #n = if_not_exists(#n, :zero) + :one REMOVE #gone",
         "ExpressionAttributeNames": {"#s": "status", "#n": "count", "#gone": "logs"},
         "ExpressionAttributeValues": {":s": {"S": "RUNNING"}, ":zero": {"N": "0"}, ":one": {"N": "1"}}},
        {"UpdateExpression": "SET #s = :s", "ConditionExpression": "#s = :r AND attribute_exists(#o)",
         "ExpressionAttributeNames": {"#s": "status", "#o": "outputs"},
         "ExpressionAttributeValues": {":s": {"S": "SUCCESS"}, ":r": {"S": "RUNNING"}}},
        {"UpdateExpression": "SET #s = :s", "ConditionExpression": "#s = :r",  # fails now: it is SUCCESS
         "ExpressionAttributeNames": {"#s": "status"},
         "ExpressionAttributeValues": {":s": {"S": "SUCCESS"}, ":r": {"S": "RUNNING"}},
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        {"UpdateExpression": "SET #s = :s", "ConditionExpression": "#s IN (:a, :b)",
         "ExpressionAttributeNames": {"#s": "status"},
         "ExpressionAttributeValues": {":s": {"S": "DONE"}, ":a": {"S": "SUCCESS"}, ":b": {"S": "x"}, ":c": {"S": "unused"}}},
        {"UpdateExpression": "SET #s = :s SET #t = :s", "ExpressionAttributeNames": {"#s": "status", "#t": "t"},
         "ExpressionAttributeValues": {":s": {"S": "x"}}},  # two SET clauses
        {"UpdateExpression": "SET #m = :s, #m = :m", "ExpressionAttributeNames": {"#m": "map"},
         "ExpressionAttributeValues": {":s": {"S": "x"}, ":m": {"M": {}}}},  # one path twice
        {"UpdateExpression": "SET #k = :s", "ExpressionAttributeNames": {"#k": "pk"},
         "ExpressionAttributeValues": {":s": {"S": "x"}}},  # a key attribute
        {"UpdateExpression": "SET #k = :s", "ExpressionAttributeNames": {"#k": "other"},
         "ExpressionAttributeValues": {":s": {"S": "x"}}},  # the same text, other names: allowed
        {"UpdateExpression": "SET #s = :s", "ConditionExpression": "#s = :r",
         "ExpressionAttributeNames": {"#s": "status", "#u": "unused"},
         "ExpressionAttributeValues": {":s": {"S": "y"}, ":r": {"S": "x"}}},  # an unused name
    ]
    answers: list[Any] = []
    for request in requests:
        for _ in range(2):
            try:
                answers.append(client.update_item(TableName=TABLE, Key=key, ReturnValues="ALL_NEW", **request))
            except ClientError as exc:
                answers.append(exc.response)
    answers.append(client.get_item(TableName=TABLE, Key=key, ConsistentRead=True))
    return answers


def test_validated_updates_and_parsed_conditions_answer_as_moto_does(aws: Any) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    parses: list[str] = []
    parse = ConditionExpressionParser.parse
    ConditionExpressionParser.parse = lambda self: parses.append(self.condition_expression) or parse(self)
    try:  # with the fast paths, their cache in front of the counting parse: the parses it let through
        original, fast = _without_and_with(aws, _expressions, between=parses.clear)
    finally:
        ConditionExpressionParser.parse = parse
    assert fast == original
    codes = [answer.get("Error", {}).get("Code") for answer in original]
    messages = [answer.get("Error", {}).get("Message", "") for answer in original]
    assert codes[3:6] == ["ConditionalCheckFailedException"] * 3 and original[5]["Item"]["status"] == {"S": "SUCCESS"}
    for first, what in ((6, "ExpressionAttributeValues unused"), (8, '"SET" section can only be used once'),
                        (10, "overlap"), (12, "part of the key"), (16, "ExpressionAttributeNames unused")):
        assert what in messages[first] and messages[first + 1] == messages[first], (what, messages[first:first + 2])
    assert original[14]["Attributes"]["other"] == {"S": "x"} == original[15]["Attributes"]["other"]
    assert original[-1]["Item"]["status"] == {"S": "SUCCESS"} and original[-1]["Item"]["count"] == {"N": "2"}
    conditions = [p for p in parses if p]
    assert conditions and len(conditions) == len(set(conditions)) + 1  # "#s = :r" twice: other names and values


def _sized_puts(client: Any) -> list[Any]:
    """Items of many attributes around moto's 405000-byte limit (keys and nested values counted), put."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    answers: list[Any] = []
    for extra in (-1, 0, 1, 2):
        item = {"pk": {"S": "big"}, "sk": {"N": "1"},
                "nested": {"M": {"list": {"L": [{"S": "x" * 100}, {"N": "12.5"}, {"BOOL": True}]}, "ss": {"SS": ["a", "b"]}}}}
        item.update({f"attr{i:02d}": {"S": "y" * 8000} for i in range(50)})
        used = sum(len(key) + DynamoType(value).size() for key, value in item.items())
        item["last"] = {"S": "z" * (405000 - used - len("last") + extra)}
        try:
            answers.append(client.put_item(TableName=TABLE, Item=item))
        except ClientError as exc:
            answers.append(exc.response)
    return answers


def test_a_new_items_size_is_checked_as_moto_does(aws: Any) -> None:
    original, fast = _without_and_with(aws, _sized_puts)
    assert fast == original
    assert [answer.get("Error", {}).get("Message", "") != "" for answer in original] == [False, False, True, True]
    assert "Item size has exceeded the maximum allowed size" in original[2]["Error"]["Message"]


def test_an_attribute_values_size_is_what_moto_measures() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    values = [{"N": "12345678901234567890.125"}, {"S": "héllo \u2603"}, {"B": b"\x00\xff"}, {"B": "AAE="},
              {"BOOL": False}, {"NULL": True}, {"SS": ["a", "bé"]}, {"NS": ["1", "2.5"]}, {"BS": [b"\x01", b"\x02\x03"]},
              {"L": []}, {"M": {}}, {"M": {"nested": {"L": [{"N": "1"}, {"S": "two"}, {"NULL": True},
                                                          {"M": {"deep": {"L": [{"BOOL": True}, {"SS": ["s"]}]}}}]}}}]
    original = [DynamoType(value).size() for value in values]
    undo = _apply()
    try:
        assert [DynamoType(value).size() for value in values] == original
    finally:
        _undo(undo)
    assert original[0] == 24 and original[1] == 10 and original[-1] == 17  # utf-8 bytes; names and members


def _sized_updates(client: Any) -> list[Any]:
    """Updates of an item near the 405000-byte limit, five new attributes each: one to it, one past it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    item = {"pk": {"S": "big"}, "sk": {"N": "1"}, **{f"attr{i:02d}": {"S": "y" * 8000} for i in range(45)}}
    used = sum(len(key) + DynamoType(value).size() for key, value in item.items())
    item["body"] = {"M": {"nested": {"S": "b" * (400000 - used - len("body") - len("nested"))}}}
    answers: list[Any] = []
    key = {"pk": {"S": "big"}, "sk": {"N": "1"}}
    names = {f"#{i}": f"n{i}" for i in range(5)}
    for extra in (0, 1):  # the item, the new attributes' names (10 bytes) and values: 405000 bytes, 405001
        client.put_item(TableName=TABLE, Item=item)
        values = {f":{i}": {"S": "v" * (998 + (extra if i == 4 else 0))} for i in range(5)}
        try:
            client.update_item(TableName=TABLE, Key=key, UpdateExpression="SET " + ", ".join(
                f"#{i} = :{i}" for i in range(5)), ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            answers.append(client.get_item(TableName=TABLE, Key=key)["Item"].keys() >= set(names.values()))
        except ClientError as exc:  # refused: the item as moto leaves it
            answers.append(exc.response)
            answers.append(sorted(client.get_item(TableName=TABLE, Key=key)["Item"]))
    return answers


def test_an_updated_items_size_is_checked_as_moto_does(aws: Any) -> None:
    original, fast = _without_and_with(aws, _sized_updates)
    assert fast == original
    assert original[0] is True
    assert "Item size to update has exceeded the maximum allowed size" in original[1]["Error"]["Message"]
    assert "n4" not in original[2]  # the attribute past the limit is never stored (moto keeps the SETs before it)


def test_a_dynamodb_requests_json_parses_as_moto_parses_it() -> None:
    import base64

    from moto.core.parse import JSONParser
    from moto.core.utils import get_service_model

    blob = base64.b64encode(b"\x00\xff").decode()
    value = {"M": {"b": {"B": blob}, "bs": {"BS": [blob, blob]}, "l": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False},
                                                                             {"M": {"deep": {"SS": ["x"]}}}]}}}
    bodies = {
        "PutItem": {"TableName": "t", "Item": {"pk": {"S": "a"}, "v": value}, "ConditionExpression": "x",
                    "Expected": {"old": {"Value": {"B": blob}, "ComparisonOperator": "EQ",
                                         "AttributeValueList": [{"B": blob}]}}, "ReturnValues": "ALL_OLD"},
        "UpdateItem": {"TableName": "t", "Key": {"pk": {"B": blob}}, "UpdateExpression": "SET #a = :a",
                       "ExpressionAttributeNames": {"#a": "a"}, "ExpressionAttributeValues": {":a": value},
                       "Unknown": 1, "ReturnValues": None},
        "Query": {"TableName": "t", "Limit": 3, "ConsistentRead": True, "ExclusiveStartKey": {"pk": {"B": blob}},
                  "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}},
        "TransactWriteItems": {"TransactItems": [{"Put": {"TableName": "t", "Item": {"pk": value}}},
                                                 {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}},
                                                             "UpdateExpression": "SET a = :a",
                                                             "ExpressionAttributeValues": {":a": {"BS": [blob]}}}},
                                                 {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "b"}},
                                                                     "ConditionExpression": "attribute_exists(pk)"}}],
                               "ClientRequestToken": "tok"},
        "BatchWriteItem": {"RequestItems": {"t": [{"PutRequest": {"Item": {"pk": {"B": blob}}}},
                                                  {"DeleteRequest": {"Key": {"pk": {"S": "x"}}}}]}},
        "BatchGetItem": {"RequestItems": {"t": {"Keys": [{"pk": {"B": blob}}], "ConsistentRead": True}}},
        "Scan": {"TableName": "t", "Segment": 0, "TotalSegments": 2, "ScanFilter": {
            "a": {"AttributeValueList": [{"N": "2"}], "ComparisonOperator": "GT"}}},
    }
    model = get_service_model("dynamodb")
    answers = {}
    for action, body in bodies.items():
        operation = model.operation_model(action)
        parser = JSONParser(operation)
        raw = json.dumps(body).encode()
        expected = parser.parse({"method": "POST", "values": {}, "headers": {}, "body": raw, "url_path": "/",
                                 "url_params": {}})
        parsed = fast_paths.compile_shape(operation.input_shape, parser)(parser._parse_body_as_json(raw))
        assert parsed == expected, action
        answers[action] = parsed
    update = answers["UpdateItem"]  # the blobs are bytes, the unknown member and the null gone
    assert update["Key"] == {"pk": {"B": b"\x00\xff"}} and "Unknown" not in update and "ReturnValues" not in update
    assert update["ExpressionAttributeValues"][":a"]["M"]["bs"] == {"BS": [b"\x00\xff", b"\x00\xff"]}


def test_an_attribute_values_copy_is_moto_s_and_shares_nothing_that_changes() -> None:
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType

    value = DynamoType({"M": {"s": {"S": "x"}, "n": {"N": "1.5"}, "b": {"B": b"\x00"}, "ss": {"SS": ["a", "b"]},
                              "l": {"L": [{"BOOL": True}, {"NULL": True}, {"M": {"deep": {"NS": ["1"]}}}]}}})
    original = copy.deepcopy(value)
    undo = _apply()
    try:
        fast = copy.deepcopy(value)
    finally:
        _undo(undo)
    assert fast == original and fast.to_json() == original.to_json() == value.to_json()
    fast.value["l"].value[2].value["deep"].value.append("2")  # (an update's ADD to a nested set)
    fast.value["ss"].value.append("c")
    fast.value["l"].value.append(DynamoType({"S": "more"}))
    assert value.to_json() == original.to_json()  # the copy's changes are its own


def test_the_interpreters_copies_are_deepcopys_and_share_nothing_that_changes() -> None:
    import collections
    import copy

    shared = {"x": [1, 2.5, "three"]}
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop

    class Thing:
        def __init__(self) -> None:
            self.items = [1, {"a": None}]

    values = [
        None, True, 0, -1.5, "text", b"bytes",
        {"Payload": {"ended": {"node_id": "n", "outputs": [{"name": "out", "resource_id": "f" * 64}], "inline": {}}},
         "StatusCode": 200, "nested": [[], {}, [{"deep": [True, False, None]}]]},
        {"a": shared, "b": shared, "c": [shared, shared]},  # aliases
        cyclic, loop,
        (1, [2], {"t": (3,)}), collections.OrderedDict(a=[1]), Thing(), {(1, 2): "tuple key"},
    ]
    for value in values:
        expected, got = copy.deepcopy(value), fast_paths.json_deepcopy(value)
        assert type(got) is type(expected)
        assert repr(got) == repr(expected) if not isinstance(value, Thing) else vars(got).keys() == vars(expected).keys()
        if isinstance(value, (dict, list)):
            assert got is not value
    copied = fast_paths.json_deepcopy(values[7])
    assert copied["a"] is copied["b"] is copied["c"][0] is copied["c"][1] and copied["a"] is not shared  # as deepcopy
    copied["a"]["x"].append("changed")
    assert shared == {"x": [1, 2.5, "three"]}  # nothing of the original changes with the copy
    again = fast_paths.json_deepcopy(cyclic)
    assert again[1] is again and again is not cyclic
    assert fast_paths.json_deepcopy(loop)["self"]["self"]["name"] == "loop"
    thing = fast_paths.json_deepcopy(values[-2])
    assert thing.items == [1, {"a": None}] and thing.items is not values[-2].items


def test_the_interpreters_modules_copy_through_it_when_patched() -> None:
    import copy
    import importlib

    undo: list[Any] = []

    def set_attribute(owner: Any, name: str, value: Any) -> None:
        undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    modules = [importlib.import_module(name) for name in fast_paths.INTERPRETER_COPIERS]
    before = [module.copy for module in modules]  # a stack running in this process has patched them already
    fast_paths._patch_interpreter_copies(set_attribute)  # noqa: SLF001
    try:
        for module in modules:
            assert module.copy.deepcopy is fast_paths.json_deepcopy and module.copy.copy is copy.copy, module
    finally:
        for owner, name, value in reversed(undo):
            setattr(owner, name, value)
    assert [module.copy for module in modules] == before  # undone to what it was
    assert len(undo) == sum(1 for module in before if module is copy)  # each module patched once
