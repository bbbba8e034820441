"""Request bodies: what JSON the API accepts, and the 400 for what it does not."""
from __future__ import annotations

import pytest
from chalice import BadRequestError

from chalicelib.api.bodies import json_body, json_object


@pytest.mark.parametrize("raw", ['{"x": NaN}', '{"x": Infinity}', '[-Infinity]'])
def test_nan_and_infinity_are_not_json(raw: str) -> None:
    with pytest.raises(BadRequestError, match="is not a JSON value"):
        json_body(raw)


@pytest.mark.parametrize("raw, expected", [(None, None), ("", None), (b"[1, 2.5]", [1, 2.5]),
                                           ('{"x": 1e308}', {"x": 1e308})])
def test_json_values_pass(raw: object, expected: object) -> None:
    assert json_body(raw) == expected


def test_malformed_json_and_non_objects_are_400() -> None:
    with pytest.raises(BadRequestError, match="Malformed JSON"):
        json_body(b"{nope")
    with pytest.raises(BadRequestError, match="must be a JSON object"):
        json_object(b"[1]")
    assert json_object(None) == {}
