"""Every record a full-refresh read emits validates against the JSON schema discover declares for its stream.

The sandbox answers in two modes: as live accounts do (`Live()`, what the live observations of the API
notes record: digit-string action ids, epoch `opened` in activity data, unlisted delivery metrics, ...)
and as the reference does (`Live.reference()`). The connector must be right under both, so each mode
reads every stream discover returns:

* activities in SINGLE_TABLE: every stream, `activities_all` included;
* activities in PARSED_DATA with a type of each `data` shape the sandbox serves: only the per-type
  `activity_*` streams (the other streams are the same as above);
* customers read by export instead of search: only `customers` (same schema, records from a CSV file).

Deleted people's activities are included. The schemas are checked as discover returns them: the CDK
inlines the `$ref`s to `schemas/shared/`, so a schema that still holds one fails here rather than
validating nothing. A stream without records would validate nothing either, and fails too.
"""

import json
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set

import pytest
from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from sandbox.server import Sandbox
from sandbox.workspace import Live
from testkit.connector import SMALL_KNOBS, discovered_streams, read_streams, records_by_stream, small_config

# A type of each `data` shape the sandbox serves (`_o:12`/`_r:12`: its object type 12), message activities
# of each channel, and types whose `data` is empty.
PARSED_TYPES = (
    "event",
    "page",
    "screen",
    "attribute_change",
    "sent_email",
    "delivered_email",
    "opened_email",
    "clicked_email",
    "sent_push",
    "opened_push",
    "sent_twilio",
    "_o:12:create",
    "_o:12:attribute_change",
    "_r:12:attribute_change",
    "add_relationship",
    "delete_relationship",
    "profile_create",
)
SHOWN = 40  # problems of each kind a failure lists
SHOWN_PER_STREAM = 5  # schema errors of each stream a failure lists


def sandbox_answering(mode: str, make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(SMALL_KNOBS, live=Live() if mode == "live" else Live.reference())


def reads(sandbox: Sandbox) -> List[Dict[str, Any]]:
    """The configs to read, each with the streams to read from it (None: every stream discovered)."""
    return [
        {
            "what": "activities in SINGLE_TABLE",
            "config": small_config(sandbox, activities={"mode": "SINGLE_TABLE", "include_deleted": True}),
            "streams": None,
        },
        {
            "what": "activities in PARSED_DATA",
            "config": small_config(
                sandbox,
                activities={"mode": "PARSED_DATA", "types": list(PARSED_TYPES), "include_deleted": True},
            ),
            "streams": lambda name: name.startswith("activity_"),
        },
        {
            "what": "customers by export",
            "config": small_config(sandbox, customers={"method": "export"}),
            "streams": lambda name: name == "customers",
        },
    ]


def value_at(record: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = record
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def record_key(record: Mapping[str, Any], primary_key: Optional[List[List[str]]], position: int) -> str:
    """The record's primary key as `name=value` pairs, or its position in the stream when it has none."""
    if not primary_key:
        return f"record #{position}"
    return ", ".join(f"{'.'.join(path)}={value_at(record, path)!r}" for path in primary_key)


def schema_problems(name: str, schema: Mapping[str, Any]) -> List[str]:
    problems = []
    if "$ref" in json.dumps(schema):
        problems.append(f"{name}: the discovered schema still holds a $ref (discover should inline them)")
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as error:
        problems.append(f"{name}: the discovered schema is not valid Draft 7 at {error.json_path}: {error.message}")
    return problems


def violations(
    name: str, schema: Mapping[str, Any], records: Iterable[Mapping[str, Any]], primary_key: Optional[List[List[str]]]
) -> List[str]:
    """Every way each record breaks the schema: stream, record key, the path in the record, and why."""
    validator = Draft7Validator(schema)
    found = []
    for position, record in enumerate(records):
        for error in sorted(validator.iter_errors(record), key=lambda error: list(map(str, error.absolute_path))):
            message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
            found.append(f"{name} [{record_key(record, primary_key, position)}] {error.json_path}: {message}")
    return found


def first(lines: List[str], count: int) -> List[str]:
    more = len(lines) - count
    return lines[:count] + ([f"... and {more} more"] if more > 0 else [])


def shown(title: str, lines: List[str]) -> str:
    return f"{title} ({len(lines)}):\n  " + "\n  ".join(first(lines, SHOWN))


def shown_by_stream(title: str, by_stream: Dict[str, List[str]]) -> str:
    """A few errors of every stream that has some, so one broken stream does not hide the others."""
    lines = [line for errors in by_stream.values() for line in first(errors, SHOWN_PER_STREAM)]
    total = sum(len(errors) for errors in by_stream.values())
    return f"{title} ({total} in {len(by_stream)} streams):\n  " + "\n  ".join(lines)


@pytest.mark.parametrize("mode", ["live", "reference"])
def test_given_sandbox_answering_as_mode_when_every_stream_read_then_every_record_matches_its_discovered_schema(
    mode, make_sandbox
):
    sandbox = sandbox_answering(mode, make_sandbox)
    problems: Dict[str, List[str]] = {"schemas": [], "read errors": [], "streams without records": []}
    invalid_records: Dict[str, List[str]] = {}
    validated: Set[str] = set()

    for read in reads(sandbox):
        streams = discovered_streams(read["config"])
        names = [name for name in streams if read["streams"] is None or read["streams"](name)]
        assert names, f"{read['what']}: discover returned none of the streams to read"
        output = read_streams(read["config"], names)
        problems["read errors"] += [
            f"{read['what']}: {message.trace.error.message}"
            for message in output.errors
            if message.trace and message.trace.error
        ]
        records = records_by_stream(output)
        for name in names:
            stream = streams[name]
            problems["schemas"] += schema_problems(name, stream.json_schema)
            if not records.get(name):
                problems["streams without records"].append(f"{name} ({read['what']})")
            errors = violations(name, stream.json_schema, records.get(name, []), stream.source_defined_primary_key)
            if errors:
                invalid_records.setdefault(name, []).extend(errors)
            validated.add(name)

    assert {"activities_all", "customers", "messages", "campaign_actions"} <= validated
    assert {f"activity_{kind}" for kind in ("event", "opened_email", "_o_12_create")} <= validated
    report = [shown(f"{kind} in {mode} mode", lines) for kind, lines in problems.items() if lines]
    if invalid_records:
        report.append(shown_by_stream(f"records breaking their stream's schema in {mode} mode", invalid_records))
    assert not report, "\n".join(report)


# What live accounts and the reference send, as the API notes record them (live observations first), in
# the shape the API sends it: the connector turns digit-string action ids into integers, but a schema must
# not depend on that. Each must validate as it stands, whatever either sandbox mode serves.
HEADERS_AS_SENT = '[{"name":"X-Mailgun-Tag","value":"my-cool-tag"},{"name":"X-Custom-Header","value":"custom-value"}]'
AS_SENT = {
    "campaign action, live: id a digit string": (
        "campaign_actions",
        {"id": "18", "campaign_id": 5, "from_id": 1, "reply_to_id": None, "headers": HEADERS_AS_SENT},
    ),
    "campaign action, Faros and Airbyte 0.2.15: from_id and reply_to_id strings": (
        "campaign_actions",
        {"id": 18, "from_id": "1", "reply_to_id": "38", "parent_action_id": "17"},
    ),
    "campaign action, headers as the reference's write bodies give them": (
        "campaign_actions",
        {"id": 18, "headers": json.loads(HEADERS_AS_SENT)},
    ),
    "broadcast action, read as campaign actions are": (
        "broadcast_actions",
        {"id": "5010", "broadcast_id": 1, "from_id": "7", "headers": HEADERS_AS_SENT},
    ),
    "newsletter content, headers a JSON string": ("newsletter_contents", {"id": 10, "headers": HEADERS_AS_SENT}),
    "transactional content, headers a JSON string": ("transactional_contents", {"id": 9, "headers": HEADERS_AS_SENT}),
    "relationship campaign, filters and triggers as the reference's examples (JSON strings)": (
        "campaigns",
        {
            "id": 5,
            "actions": [{"type": "email", "id": 259}],
            "object_type_id": 1,
            "filter_object_attributes": '{"and":[{"object_attribute":{"type_id":1,"field":"name","operator":"eq"}}]}',
            "filter_relationship_attributes": '{"and":[{"relationship_attribute":{"type_id":1,"field":"trig"}}]}',
            "audience": {"type": 1, "person_filters": '{"and":[]}', "relationship_filters": '{"and":[]}'},
            "relationship_attribute_triggers": '{"and":[{"relationship_attribute":{"type_id":1,"field":"trig"}}]}',
        },
    ),
    "object campaign, filters and triggers as the objects the reference types them": (
        "campaigns",
        {
            "id": 6,
            "filter_object_attributes": {"and": [{"object_attribute": {"type_id": 1, "field": "name"}}]},
            "filter_relationship_attributes": {"and": []},
            "audience": {"type": 1, "person_filters": {"and": []}, "relationship_filters": {"and": []}},
            "object_attribute_triggers": {"and": [{"object_attribute": {"type_id": 1, "field": "name"}}]},
        },
    ),
    "delivery, live: an unlisted metric, transactional_message_id and msg_template_id": (
        "messages",
        {
            "id": "dgOq6QWq6QUBAAF4_CGoeVX7mFkDbRFu7ek=",
            "metrics": {"sent": 1619137768, "delivered": 1619166568, "secondary:delivered": 1619166570},
            "transactional_message_id": 1,
            "msg_template_id": 1,
        },
    ),
    "delivery, customer messages schema: msg_template_id a string": ("messages", {"id": "d", "msg_template_id": "43"}),
    "delivery of a deleted person, live: only cio_id": (
        "messages",
        {"id": "d", "customer_id": None, "customer_identifiers": {"email": None, "id": None, "cio_id": "a3000001"}},
    ),
    "opened_email activity, live: open time an integer, client details": (
        "activities_all",
        {
            "id": "01AK4N8V8G8KVA4HN8Y50CCZ59",
            "type": "opened_email",
            "customer_identifiers": {"cio_id": "c0000001", "email": "person@example.com"},
            "data": {"delivery_id": "d", "opened": 1619137768, "ip_address": "192.0.2.1", "user_agent": "Mozilla/5.0"},
        },
    ),
    "opened_email activity, reference: opened a boolean": (
        "activities_all",
        {"id": "01AK4N8V8G8KVA4HN8Y50CCZ5A", "data": {"delivery_id": "d", "opened": True, "delivered": None}},
    ),
}
# And what they do not send: the types stay as narrow as the evidence allows.
NEVER_SENT = {
    "a metric that is not a time": ("messages", {"id": "d", "metrics": {"secondary:delivered": "yesterday"}}),
    "headers that are neither a JSON string nor an array": ("campaign_actions", {"id": 1, "headers": 5}),
    "a campaign's action id as a string (live: an integer)": ("campaigns", {"id": 5, "actions": [{"id": "259"}]}),
    "activity data that is not an object": ("activities_all", {"id": "a", "data": "opened"}),
}


@pytest.mark.parametrize("stream, record", AS_SENT.values(), ids=AS_SENT.keys())
def test_given_a_shape_the_api_sends_when_validated_then_the_discovered_schema_admits_it(config, stream, record):
    schema = discovered_streams(config)[stream].json_schema

    assert violations(stream, schema, [record], None) == []


@pytest.mark.parametrize("stream, record", NEVER_SENT.values(), ids=NEVER_SENT.keys())
def test_given_a_shape_the_api_does_not_send_when_validated_then_the_discovered_schema_rejects_it(
    config, stream, record
):
    schema = discovered_streams(config)[stream].json_schema

    assert violations(stream, schema, [record], None) != []
