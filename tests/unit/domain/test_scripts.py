"""The script an operation runs, as the runner writes it and PREVIEW_CMD shows it."""
from __future__ import annotations

import jinja2
import pytest

from chalicelib.domain import scripts

from .builders import operation, param, port


def _bash(cmd: str, *inputs: dict, params: list[dict] | None = None) -> dict:
    return operation("op", *inputs, base="bash_jinja2", cmd=cmd, params=params)


def test_bash_templates_see_inputs_outputs_params_and_logs_by_either_name() -> None:
    node = _bash("cp {{ inputs.src }} {{ output['out'] }} # {{ params.n }} {{ param.enum }} 2> {{ logs.stderr }}",
                 port("src"), params=[param("n", "3", "int"), param("enum", {"values": ["a", "b"], "index": 1}, "enum")])
    text = scripts.script_text(node, {"src": "/in/src"}, {"out": "/out/out"}, {"stderr": "/log/err"})
    assert text == "cp /in/src /out/out # 3 b 2> /log/err"


def test_an_array_input_renders_as_shell_quoted_words_and_iterates_as_paths() -> None:
    paths = scripts.PathList(["/in/a b", "/in/c"])
    node = _bash("wc {{ inputs.many }}; {% for p in inputs.many %}[{{ p }}]{% endfor %}", port("many", max_count=-1))
    assert scripts.script_text(node, {"many": paths}, {}, {}) == "wc '/in/a b' /in/c; [/in/a b][/in/c]"


def test_an_undefined_name_in_a_template_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError):
        scripts.script_text(_bash("echo {{ params.missing }}"), {}, {}, {})


def test_python_gets_its_dicts_from_json_then_the_users_code() -> None:
    node = operation("op", port("src"), cmd="print(params['n'] + 1)", params=[param("n", "41", "int")])
    text = scripts.script_text(node, {"src": "/in/'quoted\"path"}, {"out": "/o"}, {"stdout": "/l"})
    assert text.endswith("# User code starts here:\nprint(params['n'] + 1)")
    namespace: dict = {}
    exec(text.split("# User code starts here:")[0], namespace)  # noqa: S102 - the preamble this test just built
    assert namespace["inputs"] == {"src": "/in/'quoted\"path"} and namespace["params"]["n"] == 41
    assert namespace["input"] is namespace["inputs"] and namespace["outputs"] == {"out": "/o"}
    assert "json" not in namespace  # the preamble leaves no name of its own to the user's code


def test_the_users_code_starts_at_the_line_after_the_preamble_under_the_operations_name() -> None:
    node = operation("sum", title="Sum\n of  'all'", cmd="raise ValueError('line 1')\nprint(2)",
                     params=[param("code", "a\nb\nc", "code")])
    text = scripts.script_text(node, {"in": "/i\n/j"}, {}, {})
    first = scripts.user_code_line(text)
    assert text.split("\n")[first - 1:] == ["raise ValueError('line 1')", "print(2)"]  # multi-line values stay one line
    assert scripts.source_name(node) == "operation Sum of 'all'" and scripts.source_name({"title": " "}) == "operation"


@pytest.mark.parametrize("base", ["file", "graph"])
def test_only_operations_with_code_have_a_script(base: str) -> None:
    with pytest.raises(ValueError, match=f"`{base}` is not an operation that runs"):
        scripts.script_text({"base_node_name": base, "parameters": []}, {}, {}, {})


def test_preview_uses_placeholder_paths_and_an_array_input_gets_its_minimum_count() -> None:
    node = _bash("{{ inputs.one }} | {{ inputs.many }} > {{ outputs.out }} 2> {{ logs.stderr }}", port("one"),
                 port("many", min_count=2, max_count=-1))
    assert scripts.preview(node) == ("/tmp/plynx/op/i_0_0_one | /tmp/plynx/op/i_1_0_many /tmp/plynx/op/i_1_1_many"
                                     " > /tmp/plynx/op/o_0_out 2> /tmp/plynx/op/l_stderr")
