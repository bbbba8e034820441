"""The moto patches know the moto they were written for, and the speed-ups can be switched off alone."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.local import patches
from tests.conftest import REPO

PROBE = """
import json, moto.stepfunctions.parser.asl.utils.boto_client as boto_client
from moto.dynamodb.models import DynamoDBBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn
from infra.local import patches
original = {"client": boto_client.boto_client_for, "writes": DynamoDBBackend.put_item,
            "casing": state_task_service_sfn.StateTaskServiceSfn._normalise_parameters}
patches.patch()
import moto.dynamodb.responses as responses
print(json.dumps({"fast": patches.FAST,
                  "client_signed": boto_client.boto_client_for is not original["client"],
                  "client_cached": getattr(boto_client.boto_client_for, "cached", False),
                  "writes_locked": DynamoDBBackend.put_item is not original["writes"],
                  "casing_fixed": state_task_service_sfn.StateTaskServiceSfn._normalise_parameters
                  is not original["casing"]}))
"""


def test_the_patches_refuse_a_moto_they_were_not_written_for() -> None:
    patches.check_moto_version()  # the pinned one
    with pytest.raises(RuntimeError, match=r"moto 5\.2\.5's internals, but moto 5\.3\.0 is installed"):
        patches.check_moto_version("5.3.0")


@pytest.mark.parametrize("fast", ["1", "0"])
def test_plynx_local_fast_0_turns_off_the_speed_ups_and_keeps_the_fixes(fast: str) -> None:
    env = dict(os.environ, PLYNX_LOCAL_FAST=fast)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"fast": fast == "1", "client_signed": True, "client_cached": fast == "1", "writes_locked": True,
                    "casing_fixed": True}


WHOLE_ITEMS = """
import os, threading, time, boto3
from moto import mock_aws
from infra.local import patches
patches.patch()
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
with mock_aws():
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    read = []
    with patches.dynamodb_write_lock():  # a write in progress: a read waits for it to end
        thread = threading.Thread(target=lambda: read.append(client.get_item(TableName="t", Key={"pk": {"S": "a"}})))
        thread.start()
        thread.join(1.0)
        print("waited" if not read else "read during the write")
    thread.join(30)
    print("read after" if read else "never read")
"""


def test_a_dynamodb_read_waits_for_a_write_in_progress() -> None:
    done = subprocess.run([sys.executable, "-c", WHOLE_ITEMS], cwd=REPO, env=dict(os.environ), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-3:-1] == ["waited", "read after"]


TWO_COMPLETES = """
import os, threading, time, boto3
from moto import mock_aws
from moto.s3.models import S3Backend
from infra.local import patches
patches.patch()
slow = S3Backend.complete_multipart_upload
def slowly(self, *args, **kwargs):  # the first complete is still running when the second checks
    time.sleep(0.3)
    return slow(self, *args, **kwargs)
S3Backend.complete_multipart_upload = slowly
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
with mock_aws():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bucket-b")
    upload = s3.create_multipart_upload(Bucket="bucket-b", Key="k")["UploadId"]
    etag = s3.upload_part(Bucket="bucket-b", Key="k", UploadId=upload, PartNumber=1, Body=b"abc")["ETag"]
    answers = []
    def complete():
        try:
            answers.append(s3.complete_multipart_upload(Bucket="bucket-b", Key="k", UploadId=upload, MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": etag}]})["ETag"])
        except Exception as exc:
            answers.append(type(exc).__name__ + ": " + str(exc))
    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    print(len(set(answers)), answers[0] == s3.head_object(Bucket="bucket-b", Key="k")["ETag"],
          s3.get_object(Bucket="bucket-b", Key="k")["Body"].read().decode())
"""


def test_two_completes_of_one_upload_at_once_both_answer_its_object() -> None:
    """S3 answers a repeated CompleteMultipartUpload with the object; moto's check raced (a 500)."""
    done = subprocess.run([sys.executable, "-c", TWO_COMPLETES], cwd=REPO, env=dict(os.environ), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "1 True abc", done.stdout
