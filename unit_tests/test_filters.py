"""Customer.io's audience filter grammar: accepted filters, and errors that quote the offending part."""

import pytest

from source_customerio.filters import FilterError, parse_filter


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(None, None, id="none_is_everyone"),
        pytest.param("  ", None, id="blank_is_everyone"),
        pytest.param(
            '{"and":[{"segment":{"id":7}},{"segment":{"id":5}}]}',
            {"and": [{"segment": {"id": 7}}, {"segment": {"id": 5}}]},
            id="and_of_segments",
        ),
        pytest.param(
            '{"attribute":{"field":"unsubscribed","operator":"eq","value":"true"}}',
            {"attribute": {"field": "unsubscribed", "operator": "eq", "value": "true"}},
            id="attribute_eq",
        ),
        pytest.param(
            '{"or":[{"not":{"attribute":{"field":"email","operator":"exists"}}},{"segment":{"id":1}}]}',
            {"or": [{"not": {"attribute": {"field": "email", "operator": "exists"}}}, {"segment": {"id": 1}}]},
            id="or_not_exists",
        ),
    ],
)
def test_given_valid_filter_when_parse_then_returns_it(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param(
            "{segment",
            "it is not valid JSON (Expecting property name enclosed in double quotes at character 1)",
            id="not_json",
        ),
        pytest.param(
            "[1]",
            "each condition must be an object with exactly one of and, or, not, segment, attribute; got [1]",
            id="top_level_list",
        ),
        pytest.param(
            '{"segment":{"id":1},"not":{"segment":{"id":2}}}',
            "each condition must be an object with exactly one of and, or, not, segment, attribute; got "
            '{"segment":{"id":1},"not":{"segment":{"id":2}}}',
            id="two_keys_in_one_condition",
        ),
        pytest.param('{"and":[]}', '"and" needs a non-empty list of conditions; got {"and":[]}', id="empty_and"),
        pytest.param(
            '{"or":{"segment":{"id":1}}}',
            '"or" needs a non-empty list of conditions; got {"or":{"segment":{"id":1}}}',
            id="or_not_a_list",
        ),
        pytest.param(
            '{"and":[{"segment":{"id":"7"}}]}',
            '"segment" needs {"id": <integer segment id>}; got {"segment":{"id":"7"}}',
            id="nested_segment_id_as_text",
        ),
        pytest.param(
            '{"segment":{"id":true}}',
            '"segment" needs {"id": <integer segment id>}; got {"segment":{"id":true}}',
            id="segment_id_boolean",
        ),
        pytest.param(
            '{"attribute":{"operator":"eq","value":"x"}}',
            '"attribute" needs a "field" name; got {"attribute":{"operator":"eq","value":"x"}}',
            id="attribute_without_field",
        ),
        pytest.param(
            '{"attribute":{"field":"plan","operator":"gt","value":"1"}}',
            'unknown operator "gt" (use eq or exists) in {"attribute":{"field":"plan","operator":"gt","value":"1"}}',
            id="unknown_operator",
        ),
        pytest.param(
            '{"attribute":{"field":"plan","operator":"eq"}}',
            'operator "eq" needs a "value" in {"attribute":{"field":"plan","operator":"eq"}}',
            id="eq_without_value",
        ),
        pytest.param(
            '{"not":{"person":{"id":1}}}',
            'unknown condition "person" (use and, or, not, segment, attribute) in {"person":{"id":1}}',
            id="unknown_condition_under_not",
        ),
    ],
)
def test_given_invalid_filter_when_parse_then_error_quotes_offending_part(text, message):
    with pytest.raises(FilterError) as raised:
        parse_filter(text)
    assert str(raised.value) == message


def test_given_long_offending_part_when_parse_then_quote_is_shortened():
    text = '{"segment":{"id":"' + "x" * 200 + '"}}'

    with pytest.raises(FilterError) as raised:
        parse_filter(text)

    assert str(raised.value) == '"segment" needs {"id": <integer segment id>}; got ' + text[:117] + "..."
