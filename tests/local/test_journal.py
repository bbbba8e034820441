"""The journal: every acknowledged change is on disk before its answer (infra/local/journal.py).

A copy of a running stack's data dir is what a `kill -9` at that moment leaves behind (nothing is
written after an answer that the answer depends on): a second stack started on the copy must hold
every write acknowledged before the copy, whatever the service and whoever wrote it concurrently.
"""
from __future__ import annotations

import json
import os
import shutil
import threading

import pytest
from botocore.exceptions import ClientError

from infra.local import journal as journal_module
from infra.local import s3_bodies, snapshot
from infra.local.stack import BODY_DIR, free_port, start_stack
from tests.local.test_stack import ROLE_ARN, Runner, client, lambda_task, make_app, run_to_end

MB = 1024 * 1024


def _start(data_dir: str, runner: Runner | None = None, **kwargs):
    return start_stack(free_port(), free_port(), free_port(), data_dir, app=make_app(),
                       lambda_handler=runner or Runner(), bootstrap=False, snapshot_interval=3600, **kwargs)


def _crash_copy(stack, tmp_path) -> str:
    """The data dir as a kill -9 now would leave it."""
    target = str(tmp_path / "after-crash")
    shutil.copytree(stack.data_dir, target)
    return target


def _table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


@pytest.mark.parametrize("fsync", ["interval", "always"])
def test_a_crash_keeps_every_acknowledged_write(tmp_path, monkeypatch, fsync) -> None:
    monkeypatch.setenv("PLYNX_LOCAL_FSYNC", fsync)
    runner = Runner()
    first = _start(str(tmp_path / "data"), runner)
    try:
        s3, ddb, sfn = (client(name, first) for name in ("s3", "dynamodb", "stepfunctions"))
        saves = first.snapshot_saves
        s3.create_bucket(Bucket="artifacts")  # no hook covers these: each is saved by a snapshot
        _table(ddb, "things")
        assert first.snapshot_saves >= saves + 2 and "CreateTable" in first.journal.unjournaled
        records = first.journal.records

        # DynamoDB: every kind of write, and 8 threads updating one counter (the image journaled last
        # must be the last one applied)
        ddb.put_item(TableName="things", Item={"id": {"S": "put"}, "doc": {"M": {"k": {"S": "v"}}}})
        ddb.put_item(TableName="things", Item={"id": {"S": "gone"}})
        ddb.delete_item(TableName="things", Key={"id": {"S": "gone"}})
        ddb.batch_write_item(RequestItems={"things": [
            {"PutRequest": {"Item": {"id": {"S": f"batch-{i}"}}}} for i in range(5)]})
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "things", "Item": {"id": {"S": "tx"}}}},
            {"Update": {"TableName": "things", "Key": {"id": {"S": "put"}}, "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "7"}}}}])
        with pytest.raises(ClientError):  # refused as a whole: nothing of it may come back
            ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "things", "Item": {"id": {"S": "half"}}}},
                {"ConditionCheck": {"TableName": "things", "Key": {"id": {"S": "none"}},
                                    "ConditionExpression": "attribute_exists(id)"}}])

        def bump() -> None:
            for _ in range(10):
                ddb.update_item(TableName="things", Key={"id": {"S": "counter"}}, UpdateExpression="ADD n :one",
                                ExpressionAttributeValues={":one": {"N": "1"}})

        threads = [threading.Thread(target=bump) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # S3: puts, a delete, a copy, a completed multipart upload and one still open
        big = os.urandom(6 * MB)
        s3.put_object(Bucket="artifacts", Key="small", Body=b"hello", Metadata={"who": "me"})
        s3.put_object(Bucket="artifacts", Key="doomed", Body=b"x")
        s3.delete_object(Bucket="artifacts", Key="doomed")
        s3.copy_object(Bucket="artifacts", Key="copy", CopySource={"Bucket": "artifacts", "Key": "small"})
        upload = s3.create_multipart_upload(Bucket="artifacts", Key="joined")["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="artifacts", Key="joined", UploadId=upload,
                                                          PartNumber=n, Body=body)["ETag"]}
                 for n, body in ((1, big), (2, b"tail"))]
        s3.complete_multipart_upload(Bucket="artifacts", Key="joined", UploadId=upload,
                                     MultipartUpload={"Parts": parts})
        open_upload = s3.create_multipart_upload(Bucket="artifacts", Key="later")["UploadId"]
        first_part = s3.upload_part(Bucket="artifacts", Key="later", UploadId=open_upload, PartNumber=1,
                                    Body=big)["ETag"]

        # Step Functions: a machine, an execution that ended, one still running
        definition = {"StartAt": "R", "States": {"R": lambda_task("plynx-runner", {"block.$": "$.block"}, End=True)}}
        arn = sfn.create_state_machine(name="kept", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"]
        runner.release.set()
        done = run_to_end(sfn, arn, "done", {"block": False})
        runner.release.clear()
        running = sfn.start_execution(stateMachineArn=arn, name="running", input='{"block": true}')["executionArn"]

        assert first.journal.records > records
        assert first.snapshot_saves == saves + 2, first.journal.unjournaled  # the rest went to the journal only
        crashed = _crash_copy(first, tmp_path)
    finally:
        runner.release.set()
        first.stop()

    second = _start(crashed)
    try:
        assert second.restored and second.replayed > 0
        s3, ddb, sfn = (client(name, second) for name in ("s3", "dynamodb", "stepfunctions"))
        items = {item["id"]["S"]: item for item in ddb.scan(TableName="things")["Items"]}
        assert set(items) == {"put", "tx", "counter"} | {f"batch-{i}" for i in range(5)}
        assert items["put"] == {"id": {"S": "put"}, "doc": {"M": {"k": {"S": "v"}}}, "n": {"N": "7"}}
        assert items["counter"]["n"] == {"N": "80"}

        small = s3.get_object(Bucket="artifacts", Key="small")
        assert small["Body"].read() == b"hello" and small["Metadata"] == {"who": "me"}
        assert s3.get_object(Bucket="artifacts", Key="copy")["Body"].read() == b"hello"
        assert s3.get_object(Bucket="artifacts", Key="joined")["Body"].read() == big + b"tail"
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket="artifacts")["Contents"]]
        assert keys == ["copy", "joined", "small"]
        listed = s3.list_parts(Bucket="artifacts", Key="later", UploadId=open_upload)["Parts"]
        assert [(p["PartNumber"], p["ETag"]) for p in listed] == [(1, first_part)]
        second_part = s3.upload_part(Bucket="artifacts", Key="later", UploadId=open_upload, PartNumber=2,
                                     Body=b"end")["ETag"]
        s3.complete_multipart_upload(Bucket="artifacts", Key="later", UploadId=open_upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first_part}, {"PartNumber": 2, "ETag": second_part}]})
        assert s3.get_object(Bucket="artifacts", Key="later")["Body"].read() == big + b"end"

        executions = {e["name"]: e["status"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]}
        assert executions == {"done": "SUCCEEDED", "running": "ABORTED"}
        assert sfn.describe_execution(executionArn=done["executionArn"])["output"] == done["output"]
        assert sfn.describe_execution(executionArn=running)["error"] == snapshot.RESTART_ERROR
        assert run_to_end(sfn, arn, "again", {"block": False})["status"] == "SUCCEEDED"
    finally:
        second.stop()


def test_a_record_cut_short_by_the_kill_is_ignored(tmp_path) -> None:
    first = _start(str(tmp_path / "data"))
    try:
        ddb = client("dynamodb", first)
        _table(ddb, "things")
        ddb.put_item(TableName="things", Item={"id": {"S": "kept"}})
        crashed = _crash_copy(first, tmp_path)
    finally:
        first.stop()
    number, path = journal_module.segments(os.path.join(crashed, journal_module.JOURNAL_DIR))[-1]
    with open(path, "ab") as stream:  # a record whose write the kill interrupted (its answer never left)
        stream.write(b"\xff\x00\x00\x00garbage")
    second = _start(crashed)
    try:
        ddb = client("dynamodb", second)
        assert [item["id"]["S"] for item in ddb.scan(TableName="things")["Items"]] == ["kept"]
        ddb.put_item(TableName="things", Item={"id": {"S": "after"}})  # written to a new segment
        assert second.journal.seq > number
    finally:
        second.stop()


def test_bodies_are_files_the_snapshot_names_and_collects(tmp_path) -> None:
    stack = _start(str(tmp_path / "data"))
    bodies = os.path.join(stack.data_dir, BODY_DIR)
    try:
        s3 = client("s3", stack)
        s3.create_bucket(Bucket="artifacts")
        data = os.urandom(8 * MB)
        s3.put_object(Bucket="artifacts", Key="kept", Body=data)
        s3.put_object(Bucket="artifacts", Key="dropped", Body=b"y" * MB)
        note = b"n" * s3_bodies.SMALL_BODY_BYTES  # small: kept in its key, which the snapshot holds whole
        s3.put_object(Bucket="artifacts", Key="note", Body=note)
        assert len(os.listdir(bodies)) == 2
        s3.delete_object(Bucket="artifacts", Key="dropped")
        # read and copied from the file in ranges (moto would read the whole object for each)
        ranged = s3.get_object(Bucket="artifacts", Key="kept", Range="bytes=5000000-5000009")
        assert ranged["Body"].read() == data[5000000:5000010] and ranged["ContentLength"] == 10
        assert s3.get_object(Bucket="artifacts", Key="kept", Range="bytes=-3")["Body"].read() == data[-3:]
        upload = s3.create_multipart_upload(Bucket="artifacts", Key="copied")["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part_copy(
            Bucket="artifacts", Key="copied", UploadId=upload, PartNumber=n, CopySourceRange=f"bytes={start}-{end}",
            CopySource={"Bucket": "artifacts", "Key": "kept"})["CopyPartResult"]["ETag"]}
            for n, (start, end) in enumerate(((0, 5 * MB - 1), (5 * MB, 8 * MB - 1)), 1)]
        s3.complete_multipart_upload(Bucket="artifacts", Key="copied", UploadId=upload, MultipartUpload={"Parts": parts})
        assert s3.get_object(Bucket="artifacts", Key="copied")["Body"].read() == data
        s3.delete_object(Bucket="artifacts", Key="copied")
    finally:
        stack.stop()  # the final snapshot: the deleted key's file goes
    names = os.listdir(bodies)
    assert len(names) == 1
    with open(os.path.join(bodies, names[0]), "rb") as stream:
        assert stream.read() == data
    # the snapshot holds the key's name and file, not its bytes
    assert os.path.getsize(os.path.join(stack.data_dir, snapshot.SNAPSHOT_FILE)) < MB
    again = _start(stack.data_dir)
    try:
        assert client("s3", again).get_object(Bucket="artifacts", Key="kept")["Body"].read() == data
        assert client("s3", again).get_object(Bucket="artifacts", Key="note")["Body"].read() == note
    finally:
        again.stop()


def test_a_fold_replaces_the_journal_with_a_snapshot(tmp_path) -> None:
    stack = _start(str(tmp_path / "data"))
    try:
        ddb = client("dynamodb", stack)
        _table(ddb, "things")
        for i in range(20):
            ddb.put_item(TableName="things", Item={"id": {"S": f"i{i}"}})
        directory = os.path.join(stack.data_dir, journal_module.JOURNAL_DIR)
        before = journal_module.segments(directory)
        assert sum(os.path.getsize(path) for _, path in before) > 0
        stack._snapshotter.save_now()
        after = journal_module.segments(directory)
        assert [number for number, _ in after] == [stack.journal.seq] and os.path.getsize(after[0][1]) == 0
        crashed = _crash_copy(stack, tmp_path)
    finally:
        stack.stop()
    second = _start(crashed)
    try:
        assert second.replayed == 0
        assert client("dynamodb", second).scan(TableName="things")["Count"] == 20
    finally:
        second.stop()


def test_a_snapshot_of_the_format_before_the_journal_still_loads(tmp_path) -> None:
    """Format 1 held the S3 bodies inside the pickle (every .local-data made before the journal)."""
    import io

    stack = _start(str(tmp_path / "data"))
    data = os.urandom(2 * MB)
    try:
        s3 = client("s3", stack)
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key="old", Body=data)
        state = snapshot._capture(0)
        state["format"] = 1
        del state["journal_from"]
        buffer = io.BytesIO()
        snapshot._BackendPickler(buffer, snapshot._worker_types()).dump(state)  # moto's own pickling: the bytes
    finally:
        stack.stop()
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    (old_dir / snapshot.SNAPSHOT_FILE).write_bytes(buffer.getvalue())
    assert len(buffer.getvalue()) > 2 * MB
    again = _start(str(old_dir))
    try:
        assert again.restored
        assert client("s3", again).get_object(Bucket="artifacts", Key="old")["Body"].read() == data
        assert len(os.listdir(old_dir / BODY_DIR)) == 1  # the bytes moved to a file
    finally:
        again.stop()
    assert os.path.getsize(old_dir / snapshot.SNAPSHOT_FILE) < MB  # and out of the snapshot


def test_a_record_that_does_not_read_back_stops_the_start_with_its_place(tmp_path) -> None:
    import struct
    import zlib

    directory = tmp_path / "journal"
    directory.mkdir()
    payload = b"not a pickle"
    (directory / "00000003.log").write_bytes(struct.pack("<II", len(payload), zlib.crc32(payload)) + payload)
    with pytest.raises(RuntimeError, match=r"00000003\.log at byte 0 .*move the data dir away"):
        journal_module.replay(str(directory), 0)
    assert journal_module.replay(str(directory), 4) == (0, 4)  # a snapshot past it: nothing to read


def test_the_interval_syncer_reaches_the_disk_and_a_power_cut_drops_only_keys_without_bytes(tmp_path) -> None:
    """PLYNX_LOCAL_FSYNC=interval (the default): records and bodies are synced within SYNC_INTERVAL; a key whose
    body a power cut took is dropped at start, the rest kept."""
    import time

    stack = _start(str(tmp_path / "data"))
    try:
        assert stack.journal.fsync == "interval"
        s3 = client("s3", stack)
        s3.create_bucket(Bucket="artifacts")
        for name in ("kept", "cut"):  # bodies past SMALL_BODY_BYTES: files (a small one is in its record)
            s3.put_object(Bucket="artifacts", Key=name, Body=name.encode() * s3_bodies.SMALL_BODY_BYTES)
        deadline = time.monotonic() + 5
        while stack.journal._synced < stack.journal._written and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stack.journal._synced == stack.journal._written  # the syncer's pass
        crashed = _crash_copy(stack, tmp_path)
    finally:
        stack.stop()
    bodies = os.path.join(crashed, BODY_DIR)
    by_content = {open(os.path.join(bodies, name), "rb").read(): name for name in os.listdir(bodies)}
    os.unlink(os.path.join(bodies, by_content[b"cut" * s3_bodies.SMALL_BODY_BYTES]))  # what a power cut before its fsync leaves
    again = _start(crashed)
    try:
        s3 = client("s3", again)
        assert [item["Key"] for item in s3.list_objects_v2(Bucket="artifacts")["Contents"]] == ["kept"]
        assert s3.get_object(Bucket="artifacts", Key="kept")["Body"].read() == b"kept" * s3_bodies.SMALL_BODY_BYTES
    finally:
        again.stop()


def test_a_wrong_fsync_mode_stops_the_start(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PLYNX_LOCAL_FSYNC", "sometimes")
    with pytest.raises(RuntimeError, match="PLYNX_LOCAL_FSYNC must be one of always, interval, off"):
        _start(str(tmp_path / "data"))
