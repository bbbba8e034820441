"""The configuration file: a resource class plugged in by config, without editing the core."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO
from tests.functional.test_resources import op, preview, run
from tests.helpers import by_title, instance, output_id


def test_a_resource_plugged_in_by_config_runs_and_previews(api) -> None:
    kinds = api.ok("get", "nodes/python")["resources_dict"]
    assert kinds["upper-text"]["title"] == "Upper-case text" and kinds["upper-text"]["color"] == "#0af"
    assert {"file", "csv", "directory", "int"} <= set(kinds)  # the built-ins are still there
    cmd = 'open(outputs["shout"], "w").write("hello config")\n'
    result = run(api, [instance(api.save_operation(op("python", "Shout", cmd, outputs={"shout": "upper-text"})))],
                 "plugged in")
    assert result["graph_running_status"] == "SUCCESS"
    resource_id = output_id(by_title(result, "Shout"), "shout")
    assert api.resource(resource_id) == b"HELLO CONFIG"
    assert preview(api, resource_id, "upper-text") == '<pre class="upper-text">HELLO CONFIG</pre>'
    body = api.ok("post", "upload_file", files={"data": ("a.txt", b"x")},
                  data={"title": "typed", "file_type": "upper-text"})
    assert body["node"]["outputs"][0]["file_type"] == "upper-text"


def _load(config_text: str | None, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if config_text is None:
        env.pop("PLYNX_CONFIG", None)
    else:
        path = tmp_path / "config.yaml"
        path.write_text(config_text)
        env["PLYNX_CONFIG"] = str(path)
    code = "from chalicelib.domain import resource_kinds; print(sorted(resource_kinds.RESOURCES_DICT))"
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)


def test_built_in_default_and_bad_config_files(tmp_path) -> None:
    default = _load(None, tmp_path)
    assert default.returncode == 0 and "'directory'" in default.stdout and "upper-text" not in default.stdout
    replaced = _load("replace_plugins: true\nplugins:\n  resources:\n    - {kind: only, cls: "
                     "chalicelib.resource_types.common.File}\n", tmp_path)
    assert replaced.returncode == 0 and replaced.stdout.strip() == "['only']"
    broken = _load("plugins:\n  resources:\n    - {kind: x, cls: nowhere.Thing}\n", tmp_path)
    assert broken.returncode != 0 and "Cannot import `nowhere`" in broken.stderr
    not_a_mapping = _load("- just\n- a list\n", tmp_path)
    assert not_a_mapping.returncode != 0 and "must be a mapping" in not_a_mapping.stderr


def test_storage_and_auth_come_from_the_config_unless_the_environment_says(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("storage: {bucket: from-config}\nauth: {secret_key: s3cret}\n")
    code = "from chalicelib.store.settings import SETTINGS; print(SETTINGS.bucket, SETTINGS.secret_key)"
    env = {k: v for k, v in os.environ.items() if k not in ("PLYNX_BUCKET", "PLYNX_SECRET_KEY")}
    env["PLYNX_CONFIG"] = str(path)
    run = lambda extra: subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, env={**env, **extra},
                                       capture_output=True, text=True, timeout=60).stdout.split()
    assert run({}) == ["from-config", "s3cret"]
    assert run({"PLYNX_BUCKET": "from-env"}) == ["from-env", "s3cret"]


def test_registration_and_default_policies_come_from_the_config_unless_the_environment_says(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("auth: {registration: approval, default_policies: [CAN_VIEW_WORKFLOWS]}\n")
    code = ("from chalicelib.store.settings import SETTINGS; "
            "print(SETTINGS.registration, ','.join(SETTINGS.default_policies))")
    env = {k: v for k, v in os.environ.items() if k not in ("PLYNX_REGISTRATION", "PLYNX_DEFAULT_POLICIES")}
    env["PLYNX_CONFIG"] = str(path)
    run = lambda extra: subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, env={**env, **extra},
                                       capture_output=True, text=True, timeout=60)
    assert run({}).stdout.split() == ["approval", "CAN_VIEW_WORKFLOWS"]
    assert run({"PLYNX_REGISTRATION": "closed", "PLYNX_DEFAULT_POLICIES": "CAN_VIEW_OPERATIONS,CAN_VIEW_WORKFLOWS"}
               ).stdout.split() == ["closed", "CAN_VIEW_OPERATIONS,CAN_VIEW_WORKFLOWS"]
    # a mode or a policy nobody knows stops the start, and says why
    bad_mode = run({"PLYNX_REGISTRATION": "invite-only"})
    assert bad_mode.returncode != 0 and "none of open, approval, closed" in bad_mode.stderr
    admin_by_default = run({"PLYNX_DEFAULT_POLICIES": "IS_ADMIN"})
    assert admin_by_default.returncode != 0 and "IS_ADMIN cannot be a default policy" in admin_by_default.stderr


def test_a_hub_plugged_in_by_config_serves_runnable_operations(api) -> None:
    assert [h["kind"] for h in api.ok("get", "hubs")["hubs"]] == ["db-hub", "demo-hub", "test-hub"]
    found = api.ok("post", "search_in_hubs", json={"hub": "test-hub", "search": "input_file_type:upper-text"})
    measure = found["items"][0]["items"][0]
    assert measure["title"] == "Measure shout" and found["total_count"] == 1
    shout = instance(api.save_operation(op("python", "Shout", 'open(outputs["s"], "w").write("abc")\n',
                                           outputs={"s": "upper-text"})))
    result = run(api, [shout, dict(instance(measure), inputs=[dict(measure["inputs"][0], values=[
        {"node_id": shout["_id"], "output_id": "s"}])])], "hub plugin")
    assert result["graph_running_status"] == "SUCCESS"
    assert api.resource(output_id(by_title(result, "Measure shout"), "length")) == b"3"


def test_resource_kinds_an_operation_kind_does_not_offer_fail_validation(api) -> None:
    cases = (("python", {"x": "spreadsheet"}, {}), ("bash_jinja2", {}, {"y": "upper-text"}))
    for base, inputs, outputs in cases:
        body = api.ok("post", "nodes", json={"node": op(base, "Kinds", "true\n", inputs=inputs, outputs=outputs),
                                             "action": "VALIDATE"})
        assert body["status"] == "VALIDATION_FAILED"
        (name, _kind), = [*inputs.items(), *outputs.items()]
        assert body["validation_error"]["children"] == [
            {"target": "INPUT" if inputs else "PROPERTY", "object_id": name, "validation_code": "INVALID_VALUE",
             "children": []}]
    # upper-text is offered to python operations by the test config
    ok = api.ok("post", "nodes", json={"node": op("python", "Kinds", "pass\n", outputs={"y": "upper-text"}),
                                       "action": "VALIDATE"})
    assert ok["status"] == "SUCCESS"
