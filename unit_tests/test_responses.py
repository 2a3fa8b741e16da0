"""Page bodies parse as the standard library parses them, at orjson's speed (source_customerio.responses)."""

import json

import pytest

from source_customerio.responses import parse_json

BODIES = [
    b'{"messages": [{"id": "m1", "created": 1700000000, "metrics": {"sent": 1}}], "next": "abc"}',
    '{"name": "Zoë", "tags": ["ünï", "😀"], "score": 0.1, "none": null, "yes": true}'.encode(),
    b'{"big": 123456789012345678901234567890, "negative": -9223372036854775809}',  # beyond 64 bits
    b'{"id": 9223372036854775807, "bigger": 18446744073709551615}',
    b'{"ratio": NaN, "top": Infinity}',  # not JSON, yet the standard parser accepts it
    b'{"lone": "\\ud800"}',  # a lone surrogate: orjson refuses
    b'{"a": 1, "a": 2}',
]


@pytest.mark.parametrize("body", BODIES)
def test_given_a_body_then_what_the_standard_parser_returns(body):
    assert repr(parse_json(body)) == repr(json.loads(body))


@pytest.mark.parametrize("body", [b"", b'{"messages": [', b"<html>502</html>"])
def test_given_a_body_that_is_not_json_then_a_value_error(body):
    with pytest.raises(ValueError):
        parse_json(body)
