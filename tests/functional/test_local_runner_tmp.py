"""The local "Lambda" runner's operations work in its own /tmp, as big as the cloud's (infra/local/scratch.py)."""
from __future__ import annotations

import os

from infra.local import scratch
from tests.helpers import by_title, graph, instance, operation, output_id


def test_an_operation_works_in_the_local_runners_own_tmp_and_leaves_nothing_there(api, stack, shared_tmp) -> None:
    where = operation("python", "where", "import os\nopen(outputs['out'], 'w').write(os.getcwd())\n",
                      outputs=["out"], params={"salt": str(shared_tmp)})
    body = api.ok("post", "graphs", json={"graph": graph("where", [instance(api.save_operation(where))]),
                                          "actions": ["SAVE", "APPROVE"]})
    result = api.wait(body["graph"]["_id"])
    assert result["graph_running_status"] == "SUCCESS", result.get("error")
    workdir = api.resource(output_id(by_title(result, "where"), "out")).decode()
    directory = stack.lambda_front._warm_runner.scratch  # noqa: SLF001 - the stack's own runner
    assert os.path.dirname(workdir) == directory and not os.path.exists(workdir)
    # APPROVE plans with the runner's storage, as the cloud's API with its function's (the template's default)
    assert os.environ[scratch.LAMBDA_STORAGE_VARIABLE] == str(scratch.DEFAULT_STORAGE_MB)
