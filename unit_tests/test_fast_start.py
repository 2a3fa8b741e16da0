"""The start-up shortcut (source_customerio/fast_start.py): it takes effect, it builds the CDK's protocol
serializers exactly as the long way does, and it leaves serpyco_rs as it found it."""

import importlib.util
import json
from types import ModuleType

import airbyte_cdk.models.airbyte_protocol_serializers as cdk_serializers
import pytest
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStream,
    AirbyteStreamState,
    AirbyteTraceMessage,
    ConnectorSpecification,
    FailureType,
    Level,
    Status,
    StreamDescriptor,
    SyncMode,
    TraceType,
    Type,
)
from serpyco_rs import Serializer

from source_customerio.fast_start import DOC_LOOKUP, attribute_docs_skipped, doc_lookup_modules, no_attribute_docs
from unit_tests.fresh_interpreter import fresh_interpreter_output

# Counts the lookups without importing source_customerio first (its package import imports the CDK).
COUNT_DOC_LOOKUPS = f"""
from serpyco_rs import _describe
from serpyco_rs._json_schema import _convert
calls = []
for module in (_describe, _convert):
    original = getattr(module, "{DOC_LOOKUP}")
    setattr(module, "{DOC_LOOKUP}", lambda cls, original=original: calls.append(cls) or original(cls))
import {{module}}
print(len(calls))
"""

MESSAGES = [
    AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(
            stream="messages", data={"id": "é1", "metrics": {"sent": 1}, "gone": None, "n": 2**70}, emitted_at=1
        ),
    ),
    AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name="messages"),
                stream_state=AirbyteStateBlob({"channels": {"email": {"created": 5}}}),
            ),
        ),
    ),
    AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="read 1000 records")),
    AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=2.0,
            error=AirbyteErrorTraceMessage(message="no", failure_type=FailureType.config_error),
        ),
    ),
    AirbyteMessage(
        type=Type.CATALOG,
        catalog=AirbyteCatalog(
            streams=[AirbyteStream(name="campaigns", json_schema={}, supported_sync_modes=[SyncMode.full_refresh])]
        ),
    ),
    AirbyteMessage(type=Type.SPEC, spec=ConnectorSpecification(connectionSpecification={"type": "object"})),
    AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=AirbyteConnectionStatus(status=Status.SUCCEEDED)),
]


def doc_lookups_while_importing(module: str) -> int:
    """How often serpyco_rs looks for attribute docs while a fresh interpreter imports `module`."""
    script = COUNT_DOC_LOOKUPS.format(module=module)
    return int(fresh_interpreter_output(script))


def serializers_built_the_long_way() -> ModuleType:
    """A second copy of the CDK's serializer module, built now, with serpyco_rs's doc lookup in place."""
    spec = importlib.util.spec_from_file_location("airbyte_cdk.models.serializers_copy", cdk_serializers.__file__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


def serializer_names() -> list:
    return [name for name, value in vars(cdk_serializers).items() if isinstance(value, Serializer)]


def test_serpyco_rs_still_looks_up_docs_where_it_is_skipped():
    assert len(doc_lookup_modules()) == 2


def test_the_package_import_builds_the_cdk_serializers_without_looking_up_docs():
    assert doc_lookups_while_importing("source_customerio") == 0


def test_importing_the_cdk_alone_looks_up_docs():
    assert doc_lookups_while_importing("airbyte_cdk.models") > 50


def test_the_lookup_is_skipped_only_inside_the_block():
    originals = [getattr(module, DOC_LOOKUP) for module in doc_lookup_modules()]

    with attribute_docs_skipped():
        assert all(getattr(module, DOC_LOOKUP) is no_attribute_docs for module in doc_lookup_modules())

    assert [getattr(module, DOC_LOOKUP) for module in doc_lookup_modules()] == originals


def test_the_lookup_is_restored_when_the_import_fails():
    with pytest.raises(ImportError):
        with attribute_docs_skipped():
            raise ImportError("a module that cannot be imported")

    assert all(getattr(module, DOC_LOOKUP) is not no_attribute_docs for module in doc_lookup_modules())


# In a fresh interpreter, the package import (the shortcut) builds the CDK's serializers first; then
# they are compared with a copy built the long way. (This test process imported the CDK before the
# package, so here the shortcut never ran.)
COMPARE_WITH_THE_LONG_WAY = f"""
import json
{COUNT_DOC_LOOKUPS.format(module="source_customerio")}
import airbyte_cdk.models.airbyte_protocol_serializers as ours
from unit_tests.test_fast_start import MESSAGES, serializer_names, serializers_built_the_long_way

long_way = serializers_built_the_long_way()
message_serializers = ours.AirbyteMessageSerializer, long_way.AirbyteMessageSerializer
print(json.dumps({{
    "serializers": len(serializer_names()),
    "schemas_differ": [
        name for name in serializer_names()
        if getattr(ours, name).get_json_schema() != getattr(long_way, name).get_json_schema()
    ],
    "messages_differ": [
        message.type.name for message in MESSAGES
        if [serializer.dump(message) for serializer in message_serializers][0]
        != [serializer.dump(message) for serializer in message_serializers][1]
        or [serializer.load(serializer.dump(message)) for serializer in message_serializers][0]
        != [serializer.load(serializer.dump(message)) for serializer in message_serializers][1]
    ],
}}))
"""


@pytest.fixture(scope="module")
def compared_with_the_long_way() -> dict:
    lookups_on_import, comparison = fresh_interpreter_output(
        COMPARE_WITH_THE_LONG_WAY
    ).splitlines()  # COUNT_DOC_LOOKUPS prints the first
    return {"lookups": int(lookups_on_import), **json.loads(comparison)}


def test_the_comparison_runs_where_the_shortcut_built_the_serializers(compared_with_the_long_way):
    assert compared_with_the_long_way["lookups"] == 0
    assert compared_with_the_long_way["serializers"] == 8


def test_the_cdk_serializers_are_the_ones_built_the_long_way(compared_with_the_long_way):
    assert compared_with_the_long_way["schemas_differ"] == []


def test_messages_dump_and_load_as_with_serializers_built_the_long_way(compared_with_the_long_way):
    assert compared_with_the_long_way["messages_differ"] == []
